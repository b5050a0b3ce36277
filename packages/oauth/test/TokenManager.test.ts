/**
 * The manager against test doubles (a scripted client, an instrumented memory store): the refresh protocol's fencing,
 * store faults, cold reads and the lookup path. End-to-end lifecycles against the fake Dropbox Sign are in test/.
 */
import { TokenStore } from "@dropbox-sign-effect/oauth"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Logger, Option, Redacted, Ref, Scope, TestClock } from "effect"

import { alice, instrumentedStore, issue, manager, refused, scriptedClient, unavailable } from "./utils/doubles.js"

const connect = Effect.gen(function*() {
  const server = yield* scriptedClient
  const { failNext, gets, locks, store } = yield* instrumentedStore
  const tokens = yield* manager(server.client, store)
  yield* tokens.authorize(alice, { code: "1", state: "s" }, "s")
  return { server, store, failNext, gets, locks, tokens }
})

/** Until the server has been asked `count` refreshes: the request is in flight, waiting for its scripted answer. */
const untilPresented = (server: Effect.Effect.Success<typeof scriptedClient>, count: number) =>
  Effect.repeat(Effect.zipRight(Effect.yieldNow(), server.presented), { until: (all) => all.length >= count })

const stored = (store: TokenStore.Service) => Effect.flatten(store.get(alice))

describe("TokenManager", () => {
  describe("one lookup path", () => {
    it.scoped("refresh(account) picks up a grant stored by another process after this one marked the account", () =>
      Effect.gen(function*() {
        const { server, store, tokens } = yield* connect
        yield* TestClock.adjust("61 minutes")
        yield* server.answer(Effect.fail(refused))
        const error = yield* Effect.flip(tokens.accessToken(alice))
        expect(error._tag).toBe("ReauthorizationRequiredError")
        expect((yield* stored(store)).status).toBe("reauthorization_required")

        // Another process completes a new authorization of the account.
        yield* store.set(alice, yield* issue("2"), { expectedVersion: 2 })
        yield* server.answer(issue("3"))
        const renewed = yield* tokens.refresh(alice)
        expect(Redacted.value(renewed.accessToken)).toBe("access-3")
        expect((yield* server.presented).at(-1)).toBe("refresh-2")
      }))

    it.scoped("a cold start reads the store once, however many callers arrive", () =>
      Effect.gen(function*() {
        const { gets, server, store } = yield* connect
        const cold = yield* manager(server.client, store)
        const before = yield* gets
        const answers = yield* Effect.forEach(
          Array.from({ length: 1_000 }),
          () => cold.accessToken(alice),
          { concurrency: "unbounded" }
        )
        expect(new Set(answers.map(Redacted.value))).toStrictEqual(new Set(["access-1"]))
        expect((yield* gets) - before).toBe(1)
      }))
  })

  describe("fencing: what Dropbox Sign answered is never thrown away", () => {
    it.scoped("a refresh whose entry was marked meanwhile (with the same refresh token) still stores its answer", () =>
      Effect.gen(function*() {
        const { server, store, tokens } = yield* connect
        yield* TestClock.adjust("61 minutes")
        const caller = yield* Effect.fork(tokens.accessToken(alice))
        yield* untilPresented(server, 1)
        // Another process, its lock lost, presented the same refresh token, was refused and marked the account.
        const first = yield* stored(store)
        yield* store.set(alice, first.token, {
          expectedVersion: first.version,
          status: "reauthorization_required",
          statusReason: "refused elsewhere"
        })
        yield* server.answer(issue("2"))

        expect(Redacted.value(yield* Fiber.join(caller))).toBe("access-2")
        const after = yield* stored(store)
        expect(after).toMatchObject({ version: 3, status: "active" })
        expect(Redacted.value(after.token.refreshToken)).toBe("refresh-2")
      }))

    it.scoped("a refusal after another writer stored a newer token adopts that token instead of marking the account", () =>
      Effect.gen(function*() {
        const { server, store, tokens } = yield* connect
        const events = yield* tokens.subscribe
        yield* TestClock.adjust("61 minutes")
        const caller = yield* Effect.fork(tokens.accessToken(alice))
        yield* untilPresented(server, 1)
        yield* store.set(alice, yield* issue("elsewhere"), { expectedVersion: 1 })
        yield* server.answer(Effect.fail(refused))

        expect(Redacted.value(yield* Fiber.join(caller))).toBe("access-elsewhere")
        expect(yield* stored(store)).toMatchObject({ version: 2, status: "active" })
        const seen = yield* events.takeAll
        expect([...seen].map((event) => event._tag)).toStrictEqual(["Refreshed"])
        expect([...seen][0]).toMatchObject({ _tag: "Refreshed", source: "store" })
      }))

    it.scoped("with a lock shared by processes, a refusal waits a moment for a token a lost lock holder is storing", () =>
      Effect.gen(function*() {
        const server = yield* scriptedClient
        const { gets, store: inner } = yield* instrumentedStore
        const store = TokenStore.TokenStore.of({ ...inner, sharedRefreshLock: true })
        const tokens = yield* manager(server.client, store)
        yield* tokens.authorize(alice, { code: "1", state: "s" }, "s")
        yield* TestClock.adjust("61 minutes")
        const caller = yield* Effect.fork(tokens.accessToken(alice))
        yield* untilPresented(server, 1)
        const readsBefore = yield* gets
        yield* server.answer(Effect.fail(refused))
        // The refusal is being confirmed: the store is read again at once, then every 100 ms for up to a second.
        yield* Effect.repeat(Effect.zipRight(Effect.yieldNow(), gets), { until: (reads) => reads > readsBefore })
        yield* TestClock.adjust("300 millis")
        yield* store.set(alice, yield* issue("from-the-lost-holder"), { expectedVersion: 1 })
        yield* TestClock.adjust("200 millis")
        expect(Redacted.value(yield* Fiber.join(caller))).toBe("access-from-the-lost-holder")
        expect(yield* stored(store)).toMatchObject({ version: 2, status: "active" })
      }))

    it.scoped("a store that fails the write keeps the answer: the write is tried again until it lands", () =>
      Effect.gen(function*() {
        const { failNext, server, store, tokens } = yield* connect
        yield* TestClock.adjust("61 minutes")
        yield* failNext("set", 2)
        yield* server.answer(issue("2"))
        expect(Redacted.value(yield* tokens.accessToken(alice))).toBe("access-2")
        const after = yield* stored(store)
        expect(after.version).toBe(2)
        expect(Redacted.value(after.token.refreshToken)).toBe("refresh-2")
      }))
  })

  describe("store faults", () => {
    it.scoped("a token whose write outlasts the retries is kept, and written before the next exchange", () =>
      Effect.gen(function*() {
        const { failNext, server, store, tokens } = yield* connect
        yield* TestClock.adjust("61 minutes")
        // More failures than the write retries (5 in these tests): the store is down for longer than they last.
        yield* failNext("set", 6)
        yield* server.answer(issue("2"))
        expect((yield* Effect.flip(tokens.accessToken(alice)))._tag).toBe("TokenStoreError")
        expect(Redacted.value((yield* stored(store)).token.refreshToken)).toBe("refresh-1")
        // The store is back: the next refresh writes the kept token instead of presenting the retired one.
        expect(Redacted.value(yield* tokens.accessToken(alice))).toBe("access-2")
        expect(Redacted.value((yield* stored(store)).token.refreshToken)).toBe("refresh-2")
        expect(yield* server.presented).toStrictEqual(["refresh-1"])
      }))

    it.scoped("an authorization is stored even while the refresh lock cannot be taken", () =>
      Effect.gen(function*() {
        const { failNext, store, tokens } = yield* connect
        yield* failNext("lock", 3)
        const token = yield* tokens.authorize(alice, { code: "again", state: "s" }, "s")
        expect(Redacted.value(token.accessToken)).toBe("access-again")
        expect((yield* stored(store)).version).toBe(2)
      }))

    it.scoped("a store fault only spaces the refreshes started behind the callers' backs", () =>
      Effect.gen(function*() {
        const { failNext, locks, server, tokens } = yield* connect
        yield* TestClock.adjust("56 minutes")
        yield* failNext("lock")
        const before = yield* locks
        expect(Redacted.value(yield* tokens.accessToken(alice))).toBe("access-1")
        yield* Effect.repeat(Effect.zipRight(Effect.yieldNow(), locks), { until: (n) => n > before })
        // Within the next second, callers are served without another attempt.
        for (let i = 0; i < 3; i++) expect(Redacted.value(yield* tokens.accessToken(alice))).toBe("access-1")
        expect((yield* locks) - before).toBe(1)
        yield* TestClock.adjust("1 second")
        yield* server.answer(issue("2"))
        expect(Redacted.value(yield* tokens.accessToken(alice))).toBe("access-1")
        yield* Effect.repeat(Effect.zipRight(Effect.yieldNow(), tokens.accessToken(alice)), {
          until: (token) => Redacted.value(token) === "access-2"
        })
        expect((yield* locks) - before).toBe(2)
      }))

    it.scoped("during the backoff of a failed refresh, a token another process stored is picked up", () =>
      Effect.gen(function*() {
        const { server, store, tokens } = yield* connect
        yield* TestClock.adjust("61 minutes")
        yield* server.answer(Effect.fail(unavailable))
        expect((yield* Effect.flip(tokens.accessToken(alice)))._tag).toBe("ServerError")
        yield* store.set(alice, yield* issue("elsewhere"), { expectedVersion: 1 })
        expect(Redacted.value(yield* tokens.accessToken(alice))).toBe("access-elsewhere")
        expect(yield* server.presented).toHaveLength(1)
      }))

    it.scoped("do not start the refresh backoff: the next caller tries again at once", () =>
      Effect.gen(function*() {
        const { failNext, server, tokens } = yield* connect
        yield* TestClock.adjust("61 minutes")
        yield* failNext("lock")
        const error = yield* Effect.flip(tokens.accessToken(alice))
        expect(error._tag).toBe("TokenStoreError")
        yield* server.answer(issue("2"))
        expect(Redacted.value(yield* tokens.accessToken(alice))).toBe("access-2")
      }))

    it.scoped("while the token endpoint's failures do: the next caller gets the error without a new request", () =>
      Effect.gen(function*() {
        const { server, tokens } = yield* connect
        yield* TestClock.adjust("61 minutes")
        yield* server.answer(Effect.fail(unavailable))
        expect((yield* Effect.flip(tokens.accessToken(alice)))._tag).toBe("ServerError")
        expect((yield* Effect.flip(tokens.accessToken(alice)))._tag).toBe("ServerError")
        expect(yield* server.presented).toHaveLength(1)
      }))

    it.scoped("a still-valid token is served while the store cannot be reached", () =>
      Effect.gen(function*() {
        const { failNext, server, tokens } = yield* connect
        // Inside the refresh window (the last 5 minutes of the hour), still valid.
        yield* TestClock.adjust("56 minutes")
        yield* failNext("lock", 3)
        for (let i = 0; i < 3; i++) {
          expect(Redacted.value(yield* tokens.accessToken(alice))).toBe("access-1")
        }
        expect(yield* server.presented).toHaveLength(0)
      }))
  })

  describe("shutdown", () => {
    it.live("closing the manager's scope ends a refresh stuck on its lock; its callers are interrupted", () =>
      Effect.gen(function*() {
        const server = yield* scriptedClient
        const inner = yield* TokenStore.makeMemory
        yield* inner.set(alice, yield* issue("1", "1 millis"), { expectedVersion: null })
        const store = TokenStore.TokenStore.of({ ...inner, withRefreshLock: () => Effect.never })
        const scope = yield* Scope.make()
        const tokens = yield* manager(server.client, store).pipe(Scope.extend(scope))
        yield* Effect.sleep("5 millis")
        const caller = yield* Effect.fork(tokens.accessToken(alice))
        yield* Effect.sleep("20 millis")
        yield* Scope.close(scope, Exit.void).pipe(
          Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error("the scope did not close") })
        )
        const exit = yield* Fiber.await(caller)
        expect(Exit.isInterrupted(exit)).toBe(true)
      }))
  })

  describe("the background refresher", () => {
    it.scoped("preloads the readable accounts and reports each unreadable entry on its own", () =>
      Effect.gen(function*() {
        const server = yield* scriptedClient
        const inner = yield* TokenStore.makeMemory
        yield* inner.set(alice, yield* issue("1"), { expectedVersion: null })
        const gets = yield* Ref.make(0)
        const store = TokenStore.TokenStore.of({
          ...inner,
          get: (account) => Effect.zipRight(Ref.update(gets, (n) => n + 1), inner.get(account)),
          list: Effect.map(inner.list, (listing) => ({
            ...listing,
            unreadable: [{ location: "/tokens/0badc0de.token", reason: "the entry is corrupt: it is not valid JSON" }]
          }))
        })
        const logs = yield* Ref.make<ReadonlyArray<string>>([])
        const logger = Logger.make(({ annotations, message }) => {
          const text = `${String(message)} ${JSON.stringify(Object.fromEntries(annotations))}`
          Effect.runSync(Ref.update(logs, (all) => [...all, text]))
        })
        yield* manager(server.client, store, { backgroundRefresh: true }).pipe(
          Effect.provide(Logger.replace(Logger.defaultLogger, logger))
        )
        yield* Effect.repeat(Effect.zipRight(Effect.yieldNow(), Ref.get(gets)), { until: (n) => n >= 1 })
        expect(yield* Ref.get(gets)).toBe(1)
        const warnings = (yield* Ref.get(logs)).filter((line) => line.includes("cannot be read"))
        expect(warnings).toHaveLength(1)
        expect(warnings[0]).toContain("/tokens/0badc0de.token")
        expect(Option.isSome(yield* inner.get(alice))).toBe(true)
      }))
  })
})
