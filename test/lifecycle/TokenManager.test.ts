import { AccountId, OAuthState, TokenManager, TokenStore } from "@dropbox-sign-effect/oauth"
import { FakeDropboxSign, TestTime } from "@dropbox-sign-effect/testing"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Layer, Option, Queue, Redacted, Scope, TestClock } from "effect"

import * as Harness from "./harness.js"

const { alice, bob, connect } = Harness

const counters = Effect.flatMap(FakeDropboxSign.FakeDropboxSign, (fake) => fake.counters)
const injectRefreshFault = (fault: FakeDropboxSign.Fault, times?: number) =>
  Effect.flatMap(FakeDropboxSign.FakeDropboxSign, (fake) => fake.injectFault("refresh", fault, times))
const manager = TokenManager.TokenManager
const value = (token: Redacted.Redacted<string>) => Redacted.value(token)
const eventTags = (queue: Queue.Dequeue<{ readonly _tag: string }>) =>
  Effect.map(Queue.takeAll(queue), (events) => Chunk.toReadonlyArray(events).map((event) => event._tag))

describe("TokenManager.accessToken", () => {
  it.scoped("returns the stored token outside the refresh window, without refreshing", () =>
    Effect.gen(function*() {
      const token = yield* connect()
      const tokens = yield* Effect.all(
        [manager, manager, manager].map((m) => Effect.flatMap(m, (tm) => tm.accessToken()))
      )
      for (const t of tokens) expect(value(t)).toBe(value(token.accessToken))
      yield* TestClock.adjust("54 minutes")
      expect(value(yield* (yield* manager).accessToken())).toBe(value(token.accessToken))
      expect((yield* counters).refreshRequests).toBe(0)
    }).pipe(Effect.provide(Harness.layer())))

  it.scoped("1,000 concurrent callers at expiry share exactly one refresh", () =>
    Effect.gen(function*() {
      const tm = yield* manager
      const first = yield* connect()
      yield* TestClock.adjust("1 hour")
      const exit = yield* TestTime.runWithClock(
        Effect.all(Array.from({ length: 1000 }, () => tm.accessToken()), { concurrency: "unbounded" })
      )
      expect(Exit.isSuccess(exit)).toBe(true)
      if (!Exit.isSuccess(exit)) return
      const distinct = new Set(exit.value.map(value))
      expect(distinct.size).toBe(1)
      expect(distinct.has(value(first.accessToken))).toBe(false)
      const c = yield* counters
      expect(c.refreshRequests).toBe(1)
      expect(c.refreshesServed).toBe(1)
    }).pipe(Effect.provide(Harness.layer())))

  it.scoped("inside the window: callers get the current token at once while exactly one refresh runs", () =>
    Effect.gen(function*() {
      const tm = yield* manager
      const first = yield* connect()
      yield* TestClock.adjust("56 minutes")
      yield* injectRefreshFault(FakeDropboxSign.Fault.Latency({ duration: "10 seconds" }))
      // No clock movement: the callers must not wait for the slow refresh.
      const tokens = yield* Effect.all(Array.from({ length: 50 }, () => tm.accessToken()), { concurrency: "unbounded" })
      for (const t of tokens) expect(value(t)).toBe(value(first.accessToken))
      yield* TestTime.flushIo
      expect((yield* counters).refreshesServed).toBe(0)
      yield* TestTime.adjustGradually("11 seconds")
      const after = yield* counters
      expect(after.refreshRequests).toBe(1)
      expect(after.refreshesServed).toBe(1)
      const renewed = yield* tm.accessToken()
      expect(value(renewed)).not.toBe(value(first.accessToken))
      expect((yield* counters).refreshRequests).toBe(1)
    }).pipe(Effect.provide(Harness.layer())))

  it.scoped("different accounts refresh independently", () =>
    Effect.gen(function*() {
      const tm = yield* manager
      yield* connect(alice)
      yield* connect(bob)
      yield* TestClock.adjust("1 hour")
      yield* injectRefreshFault(FakeDropboxSign.Fault.Latency({ duration: "5 seconds" }))
      const slow = yield* Effect.fork(tm.accessToken(alice))
      yield* TestTime.flushIo
      const fast = yield* TestTime.runWithClock(tm.accessToken(bob), "10 millis")
      expect(Exit.isSuccess(fast)).toBe(true)
      expect(slow.unsafePoll()).toBeNull()
      const exit = yield* TestTime.advanceUntilDone(slow, "1 second")
      expect(Exit.isSuccess(exit)).toBe(true)
      expect((yield* counters).refreshesServed).toBe(2)
    }).pipe(Effect.provide(Harness.layer())))

  it.scoped("an unknown account fails with TokenNotFoundError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip((yield* manager).accessToken(AccountId.make("nobody")))
      expect(error._tag).toBe("TokenNotFoundError")
    }).pipe(Effect.provide(Harness.layer())))
})

describe("TokenManager.authorize", () => {
  it.scoped("stores the token and emits Stored", () =>
    Effect.gen(function*() {
      const tm = yield* manager
      const events = yield* tm.subscribe
      const token = yield* connect(alice)
      const store = yield* TokenStore.TokenStore
      const stored = yield* store.get(alice)
      expect(Option.isSome(stored) && value(stored.value.token.refreshToken)).toBe(value(token.refreshToken))
      expect(yield* eventTags(events)).toStrictEqual(["Stored"])
    }).pipe(Effect.provide(Harness.layer())))

  it.scoped("a wrong state is refused before the code is exchanged", () =>
    Effect.gen(function*() {
      const tm = yield* manager
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const state = yield* OAuthState.make
      const code = yield* fake.issueCode({ state })
      const error = yield* Effect.flip(tm.authorize(alice, { code, state: `${state}x` }, state))
      expect(error._tag).toBe("StateMismatchError")
      expect((yield* counters).codesExchanged).toBe(0)
      expect(Option.isNone(yield* (yield* TokenStore.TokenStore).get(alice))).toBe(true)
    }).pipe(Effect.provide(Harness.layer())))

  it.scoped("re-authorizing replaces a grant that needed re-authorization", () =>
    Effect.gen(function*() {
      const tm = yield* manager
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      yield* connect()
      yield* fake.revokeGrant()
      yield* TestClock.adjust("1 hour")
      expect((yield* Effect.flip(TestTime.runWithClock(tm.accessToken()).pipe(Effect.flatten)))._tag).toBe(
        "ReauthorizationRequiredError"
      )
      const again = yield* connect()
      expect(value(yield* tm.accessToken())).toBe(value(again.accessToken))
    }).pipe(Effect.provide(Harness.layer())))
  it.effect("a grant re-authorized by another process is picked up from the store", () =>
    Effect.gen(function*() {
      const shared = yield* Layer.build(Layer.merge(TokenStore.layerMemory, FakeDropboxSign.layerClient))
      const fake = yield* Effect.provide(FakeDropboxSign.FakeDropboxSign, shared)
      const one = yield* Layer.build(Harness.managerLayer()).pipe(Effect.provide(shared))
      const other = yield* Layer.build(Harness.managerLayer()).pipe(Effect.provide(shared))
      const inOne = <A, E>(f: (tm: TokenManager.Service) => Effect.Effect<A, E>) =>
        Effect.flatMap(TokenManager.TokenManager, f).pipe(Effect.provide(one))
      yield* connect().pipe(Effect.provide(one), Effect.provide(shared))
      yield* fake.revokeGrant()
      yield* TestClock.adjust("1 hour")
      expect(TestTime.failureOf(yield* TestTime.runWithClock(inOne((tm) => tm.accessToken())))._tag).toBe(
        "ReauthorizationRequiredError"
      )
      const again = yield* connect().pipe(Effect.provide(other), Effect.provide(shared))
      expect(value(yield* inOne((tm) => tm.accessToken()))).toBe(value(again.accessToken))
    }).pipe(Effect.scoped))
})

describe("TokenManager failures", () => {
  it.scoped("a revoked grant: ReauthorizationRequiredError, one event, and no further refresh requests", () =>
    Effect.gen(function*() {
      const tm = yield* manager
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const events = yield* tm.subscribe
      yield* connect()
      yield* Queue.takeAll(events)
      yield* fake.revokeGrant()
      yield* TestClock.adjust("1 hour")
      for (let i = 0; i < 5; i++) {
        const exit = yield* TestTime.runWithClock(tm.accessToken())
        expect(TestTime.failureOf(exit)._tag).toBe("ReauthorizationRequiredError")
      }
      const forced = yield* Effect.flip(tm.refresh())
      expect(forced._tag).toBe("ReauthorizationRequiredError")
      expect((yield* counters).refreshRequests).toBe(1)
      expect(yield* eventTags(events)).toStrictEqual(["ReauthorizationRequired"])
      // The refresh token is kept, marked: nothing is deleted implicitly.
      const stored = yield* (yield* TokenStore.TokenStore).get(AccountId.defaultAccount)
      expect(Option.isSome(stored) && stored.value.status).toBe("reauthorization_required")
    }).pipe(Effect.provide(Harness.layer())))

  it.scoped("429 and 5xx during background refresh: callers keep the valid token; the refresh succeeds once the fault clears", () =>
    Effect.gen(function*() {
      const tm = yield* manager
      const events = yield* tm.subscribe
      const first = yield* connect()
      yield* Queue.takeAll(events)
      yield* injectRefreshFault(FakeDropboxSign.Fault.RateLimited({ retryAfter: 600 }))
      yield* injectRefreshFault(FakeDropboxSign.Fault.Status({ status: 503 }), 5)
      yield* TestTime.adjustGradually("55 minutes", "1 minute")
      // Inside the window: every pass of the background refresher meets a fault until they run out; meanwhile
      // every caller is served the still-valid token and none fails.
      let renewed = first.accessToken
      for (let second = 0; second < 120 && value(renewed) === value(first.accessToken); second++) {
        yield* TestTime.adjustGradually("1 second", "250 millis")
        renewed = yield* tm.accessToken()
      }
      expect(value(renewed)).not.toBe(value(first.accessToken))
      const tags = yield* eventTags(events)
      expect(tags.filter((tag) => tag === "RefreshFailed").length).toBe(2)
      expect(tags.filter((tag) => tag === "Refreshed").length).toBe(1)
      expect((yield* counters).refreshesServed).toBe(1)
    }).pipe(Effect.provide(Harness.layer({ manager: { backgroundRefresh: true, backgroundInterval: "5 seconds" } }))))

  it.scoped("an expired token whose refresh fails transiently fails with that error, then recovers", () =>
    Effect.gen(function*() {
      const tm = yield* manager
      yield* connect()
      yield* TestClock.adjust("1 hour")
      yield* injectRefreshFault(FakeDropboxSign.Fault.Status({ status: 503 }), 5)
      const failed = yield* TestTime.runWithClock(tm.accessToken())
      expect(TestTime.failureOf(failed)._tag).toBe("ServerError")
      // Within the failure backoff the error is returned without a new request (no retry storm).
      const requestsAfterFailure = (yield* counters).refreshRequests
      expect(TestTime.failureOf(yield* Effect.exit(tm.accessToken()))._tag).toBe("ServerError")
      expect((yield* counters).refreshRequests).toBe(requestsAfterFailure)
      yield* TestClock.adjust("2 seconds")
      const recovered = yield* TestTime.runWithClock(tm.accessToken())
      expect(Exit.isSuccess(recovered)).toBe(true)
    }).pipe(Effect.provide(Harness.layer())))
})

describe("TokenManager rotation safety", () => {
  const rotating = { fake: { defaultApp: { rotateRefreshTokens: true } } }

  it.scoped("100 consecutive refreshes never present a retired refresh token", () =>
    Effect.gen(function*() {
      const tm = yield* manager
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      let current = yield* connect()
      for (let i = 0; i < 100; i++) {
        const exit = yield* TestTime.runWithClock(tm.refresh())
        expect(Exit.isSuccess(exit)).toBe(true)
        if (!Exit.isSuccess(exit)) return
        expect(value(exit.value.refreshToken)).not.toBe(value(current.refreshToken))
        current = exit.value
      }
      const c = yield* counters
      expect(c.refreshesServed).toBe(100)
      expect(c.rejected).toBe(0)
      const presented = (yield* fake.requests).filter((request) => request.route === "refresh")
      expect(presented.length).toBe(100)
    }).pipe(Effect.provide(Harness.layer(rotating))))

  it.scoped("interrupting the manager between response and store write loses nothing: the next run recovers", () =>
    Effect.gen(function*() {
      const shared = yield* Layer.build(
        Layer.merge(TokenStore.layerMemory, FakeDropboxSign.layerClientWith(rotating.fake))
      )
      const fake = Effect.provide(FakeDropboxSign.FakeDropboxSign, shared)
      const first = yield* Scope.make()
      const firstManager = yield* Layer.buildWithScope(Harness.managerLayer(), first).pipe(Effect.provide(shared))
      yield* connect().pipe(Effect.provide(firstManager), Effect.provide(shared))
      yield* Effect.flatMap(
        fake,
        (f) => f.injectFault("refresh", FakeDropboxSign.Fault.Latency({ duration: "5 seconds" }))
      )
      const refreshing = yield* Effect.fork(
        Effect.flatMap(TokenManager.TokenManager, (tm) => tm.refresh()).pipe(Effect.provide(firstManager))
      )
      yield* TestTime.flushIo
      // The "crash": the manager's scope closes while the server is answering the refresh.
      const closing = yield* Effect.fork(Scope.close(first, Exit.void))
      yield* TestTime.adjustGradually("6 seconds", "500 millis")
      yield* Fiber.join(closing)
      // The caller may see its wait interrupted; the refresh itself must have completed and been stored.
      yield* Fiber.await(refreshing)
      const servedBefore = (yield* Effect.flatMap(fake, (f) => f.counters)).refreshesServed
      expect(servedBefore).toBe(1)
      // A new manager (a restart) over the same store presents the stored refresh token: the rotated one.
      const second = yield* Layer.build(Harness.managerLayer()).pipe(Effect.provide(shared))
      yield* TestClock.adjust("2 hours")
      const exit = yield* TestTime.runWithClock(
        Effect.flatMap(TokenManager.TokenManager, (tm) => tm.accessToken()).pipe(Effect.provide(second))
      )
      expect(Exit.isSuccess(exit)).toBe(true)
      const c = yield* Effect.flatMap(fake, (f) => f.counters)
      expect(c.refreshesServed).toBe(2)
      expect(c.rejected).toBe(0)
    }))

  it.scoped("an outcome-unknown refresh that rotated on the server ends in ReauthorizationRequiredError, and says so", () =>
    Effect.gen(function*() {
      const tm = yield* manager
      yield* connect()
      yield* injectRefreshFault(FakeDropboxSign.Fault.ConnectionReset({ processed: true }))
      const exit = yield* TestTime.runWithClock(tm.refresh())
      const error = TestTime.failureOf(exit)
      expect(error._tag).toBe("ReauthorizationRequiredError")
      expect(error.message).toContain("authorized again")
      // It re-read the store, found no newer token, and tried the stored refresh token once more.
      expect((yield* counters).refreshRequests).toBe(2)
    }).pipe(Effect.provide(Harness.layer(rotating))))

  it.scoped("without rotation, an outcome-unknown refresh is recovered by one more attempt", () =>
    Effect.gen(function*() {
      const tm = yield* manager
      yield* connect()
      yield* injectRefreshFault(FakeDropboxSign.Fault.ConnectionReset({ processed: true }))
      const exit = yield* TestTime.runWithClock(tm.refresh())
      expect(Exit.isSuccess(exit)).toBe(true)
      expect((yield* counters).refreshRequests).toBe(2)
    }).pipe(Effect.provide(Harness.layer())))
})

describe("TokenManager background refresh", () => {
  it.effect("refreshes known accounts ahead of expiry and stops with its scope", () =>
    Effect.gen(function*() {
      const shared = yield* Layer.build(Layer.merge(TokenStore.layerMemory, FakeDropboxSign.layerClient))
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(
        Harness.managerLayer({ manager: { backgroundRefresh: true, backgroundInterval: "10 seconds" } }),
        scope
      ).pipe(Effect.provide(shared))
      const fake = yield* Effect.provide(FakeDropboxSign.FakeDropboxSign, shared)
      yield* connect(alice).pipe(Effect.provide(context), Effect.provide(shared))
      yield* connect(bob).pipe(Effect.provide(context), Effect.provide(shared))
      yield* TestTime.adjustGradually("54 minutes", "1 minute")
      expect((yield* fake.counters).refreshRequests).toBe(0)
      yield* TestTime.adjustGradually("2 minutes", "5 seconds")
      expect((yield* fake.counters).refreshesServed).toBe(2)
      yield* Scope.close(scope, Exit.void)
      yield* TestTime.adjustGradually("3 hours", "5 minutes")
      expect((yield* fake.counters).refreshesServed).toBe(2)
    }).pipe(Effect.scoped))

  it.effect("a new manager knows the accounts already in the store", () =>
    Effect.gen(function*() {
      const shared = yield* Layer.build(Layer.merge(TokenStore.layerMemory, FakeDropboxSign.layerClient))
      const fake = yield* Effect.provide(FakeDropboxSign.FakeDropboxSign, shared)
      const earlier = yield* Layer.build(Harness.managerLayer()).pipe(Effect.provide(shared))
      yield* connect(alice).pipe(Effect.provide(earlier), Effect.provide(shared))
      yield* Layer.build(
        Harness.managerLayer({ manager: { backgroundRefresh: true, backgroundInterval: "10 seconds" } })
      )
        .pipe(Effect.provide(shared))
      yield* TestTime.adjustGradually("56 minutes", "1 minute")
      expect((yield* fake.counters).refreshesServed).toBe(1)
    }).pipe(Effect.scoped))
})
