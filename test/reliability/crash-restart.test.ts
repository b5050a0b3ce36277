/**
 * Crash-restart model test: fast-check draws short programs of steps — `accessToken`, `refresh`, an operation
 * interrupted after a random number of scheduler yields or `TestClock` milliseconds, a restart (the manager's scope
 * closes, possibly mid-operation, and a new manager is built over the SAME store), a server fault, a clock advance, a
 * re-authorization — and runs them against the in-memory fake with refresh-token rotation on, over the file store
 * (a temporary directory, real `FileSystem`), the memory store (one instance shared across restarts) and the SQL store
 * of `@dropbox-sign-effect/sql` on PostgreSQL (reopened on restart; skipped with a warning when no database answers,
 * except with `CI=true`).
 *
 * After every step, once the manager is idle, the stored refresh token must be the one the fake accepts for the
 * account's current grant; or the account is marked for re-authorization with a documented reason AND the fake's
 * request log explains it (a request presenting that token consumed a fault that loses the answer, or an injected
 * `invalid_grant`); or the token is stale but the log shows such a lossy request (the outcome was unknown to the
 * client) — a doubt the final check must resolve: a forced refresh then succeeds, or marks the account, with reason.
 *
 * `RELIABILITY_RUNS` (default 1,000: 60% memory store, 40% file store) and `RELIABILITY_SQL_RUNS` (default 100, on top)
 * deepen a local run; `RELIABILITY_SEED` replays one (the seed is in the failure report); `RELIABILITY_TRACE=1` prints
 * every step; `RELIABILITY_TMPDIR` moves the files.
 */
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"

import type { TokenError } from "@dropbox-sign-effect/oauth"
import { AccountId, OAuthState, TokenManager, TokenStore } from "@dropbox-sign-effect/oauth"
import { SqlTokenStore, SqlTokenStoreMigrations } from "@dropbox-sign-effect/sql"
import { FakeDropboxSign, TestTime } from "@dropbox-sign-effect/testing"
import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { afterAll, describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Context,
  Duration,
  Effect,
  Exit,
  FastCheck as fc,
  Fiber,
  Layer,
  Option,
  Redacted,
  Ref,
  Scope,
  TestClock
} from "effect"

import * as Support from "./support.js"

const { Fault } = FakeDropboxSign

// 1,000 runs in all by default; a file store run costs about twice a memory store run, hence the shares below.
const totalRuns = Number(process.env["RELIABILITY_RUNS"] ?? "1000")

// PostgreSQL for the SQL store, as the sql package's tests find it. Unreachable, its lanes are skipped with a warning,
// except in CI (`CI=true`), where they run and fail: a missing database must not pass as tested.
const databaseUrl = process.env["DROPBOX_SIGN_TEST_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/test"
const sqlRuns = Number(process.env["RELIABILITY_SQL_RUNS"] ?? "100")
const postgres = PgClient.layer({
  url: Redacted.make(databaseUrl),
  maxConnections: 4,
  connectTimeout: Duration.seconds(3)
})
const postgresProblem = await Effect.runPromise(
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1`).pipe(
    Effect.provide(postgres),
    Effect.as(undefined),
    Effect.catchAllCause((cause) => Effect.succeed(Cause.pretty(cause)))
  )
)
const postgresSkipped = postgresProblem !== undefined && process.env["CI"] !== "true"
if (postgresSkipped) {
  console.warn(`PostgreSQL is not reachable: the SQL store lanes of the crash-restart property are SKIPPED.`)
}

// A tmpfs when there is one: the property is about ordering, not disk speed, and fsync on a busy disk only slows it.
const temporaryRoot = process.env["RELIABILITY_TMPDIR"] ?? (Fs.existsSync("/dev/shm") ? "/dev/shm" : Os.tmpdir())
const seed = process.env["RELIABILITY_SEED"] === undefined ? undefined : Number(process.env["RELIABILITY_SEED"])

// -----------------------------------------------------------------------------
// the model
// -----------------------------------------------------------------------------

/**
 * Faults the server-fault step draws from. `lossy`: the server may process the request while its answer never reaches
 * the client (with rotation, the new refresh token is then lost). `terminal`: the server refuses the grant.
 */
const faults: ReadonlyArray<{
  readonly name: string
  readonly fault: FakeDropboxSign.Fault
  readonly lossy: boolean
  readonly terminal: boolean
}> = [
  { name: "500", fault: Fault.Status({ status: 500 }), lossy: false, terminal: false },
  { name: "502", fault: Fault.Status({ status: 502 }), lossy: false, terminal: false },
  { name: "503", fault: Fault.Status({ status: 503 }), lossy: false, terminal: false },
  { name: "504", fault: Fault.Status({ status: 504 }), lossy: false, terminal: false },
  { name: "429 Retry-After", fault: Fault.RateLimited({ retryAfter: 2 }), lossy: false, terminal: false },
  { name: "429 X-Ratelimit-Reset", fault: Fault.RateLimited({ resetAfter: 3 }), lossy: false, terminal: false },
  { name: "reset, not processed", fault: Fault.ConnectionReset({}), lossy: false, terminal: false },
  { name: "reset, processed", fault: Fault.ConnectionReset({ processed: true }), lossy: true, terminal: false },
  { name: "hang", fault: Fault.Hang(), lossy: false, terminal: false },
  { name: "latency 3 s", fault: Fault.Latency({ duration: "3 seconds" }), lossy: false, terminal: false },
  // Processed by the server after the client's 10 s timeout.
  { name: "latency 12 s", fault: Fault.Latency({ duration: "12 seconds" }), lossy: true, terminal: false },
  { name: "truncated JSON", fault: Fault.TruncatedJson(), lossy: true, terminal: false },
  { name: "HTML page", fault: Fault.HtmlPage({}), lossy: false, terminal: false },
  { name: "wrong content type", fault: Fault.WrongContentType(), lossy: false, terminal: false },
  {
    name: "200 without access_token",
    fault: Fault.RawBody({
      status: 200,
      contentType: "application/json",
      body: `{"token_type":"Bearer","expires_in":3600}`
    }),
    lossy: false,
    terminal: false
  },
  {
    name: "400 invalid_grant",
    fault: Fault.Status({ status: 400, errorName: "invalid_grant" }),
    lossy: false,
    terminal: true
  }
]

type Operation = "accessToken" | "refresh"

type Moment = { readonly _tag: "Yields"; readonly n: number } | { readonly _tag: "Millis"; readonly n: number }

type Step =
  | { readonly _tag: "AccessToken" }
  | { readonly _tag: "Refresh" }
  | { readonly _tag: "Interrupt"; readonly operation: Operation; readonly at: Moment }
  | {
    readonly _tag: "Restart"
    readonly during: Option.Option<{ readonly operation: Operation; readonly at: Moment }>
  }
  | { readonly _tag: "ServerFault"; readonly fault: number; readonly times: number }
  | { readonly _tag: "Advance"; readonly millis: number }
  | { readonly _tag: "Reauthorize" }

interface Program {
  readonly backgroundRefresh: boolean
  readonly steps: ReadonlyArray<Step>
}

const operationArb = fc.constantFrom<Operation>("accessToken", "refresh")

const momentArb: fc.Arbitrary<Moment> = fc.oneof(
  fc.integer({ min: 0, max: 40 }).map((n): Moment => ({ _tag: "Yields", n })),
  fc.integer({ min: 0, max: 15_000 }).map((n): Moment => ({ _tag: "Millis", n }))
)

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Step>({ _tag: "AccessToken" }) },
  { weight: 2, arbitrary: fc.constant<Step>({ _tag: "Refresh" }) },
  {
    weight: 3,
    arbitrary: fc.record({ operation: operationArb, at: momentArb }).map((r): Step => ({ _tag: "Interrupt", ...r }))
  },
  {
    weight: 3,
    arbitrary: fc.option(fc.record({ operation: operationArb, at: momentArb }), { nil: undefined }).map((
      during
    ): Step => ({
      _tag: "Restart",
      during: Option.fromNullable(during)
    }))
  },
  {
    weight: 4,
    arbitrary: fc.record({
      fault: fc.integer({ min: 0, max: faults.length - 1 }),
      times: fc.integer({ min: 1, max: 3 })
    }).map((r): Step => ({ _tag: "ServerFault", ...r }))
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(10_000, 60_000, 5 * 60_000, 56 * 60_000, 61 * 60_000).map((
      millis
    ): Step => ({
      _tag: "Advance",
      millis
    }))
  },
  { weight: 1, arbitrary: fc.constant<Step>({ _tag: "Reauthorize" }) }
)

const programArb: fc.Arbitrary<Program> = fc.record({
  backgroundRefresh: fc.boolean(),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 5 })
})

// -----------------------------------------------------------------------------
// statistics, printed once
// -----------------------------------------------------------------------------

interface Stats {
  runs: number
  steps: number
  restarts: number
  interrupts: number
  faults: number
  reauthorizations: Map<string, number>
  doubts: number
}

const stats = new Map<string, Stats>()

const statsFor = (kind: string): Stats => {
  const existing = stats.get(kind)
  if (existing !== undefined) return existing
  const created: Stats = {
    runs: 0,
    steps: 0,
    restarts: 0,
    interrupts: 0,
    faults: 0,
    reauthorizations: new Map(),
    doubts: 0
  }
  stats.set(kind, created)
  return created
}

afterAll(() => {
  for (const [kind, s] of stats) {
    const reasons = [...s.reauthorizations].map(([why, n]) => `${n}× ${why}`).join("; ")
    console.log(
      `crash-restart (${kind} store): ${s.runs} runs, ${s.steps} steps (${s.restarts} restarts, ${s.interrupts} ` +
        `interrupts, ${s.faults} faults); every step kept the newest refresh token or explained why not; ` +
        `${s.doubts} stale-token doubts, all resolved; re-authorizations: ${reasons === "" ? "none" : reasons}`
    )
  }
})

// -----------------------------------------------------------------------------
// running a program
// -----------------------------------------------------------------------------

/** The store as the manager sees it, counting the refresh sections in progress so that a check can wait for none. */
const instrument = (store: TokenStore.Service, busy: Ref.Ref<number>): TokenStore.Service => ({
  ...store,
  withRefreshLock: (account, effect) =>
    Effect.acquireUseRelease(
      Ref.update(busy, (n) => n + 1),
      () => store.withRefreshLock(account, effect),
      () => Ref.update(busy, (n) => n - 1)
    )
})

/** Errors an operation may end with under faults; anything else (a defect, a store or CAS error) is a bug. */
const expectedFailures: ReadonlySet<string> = new Set([
  "ServerError",
  "RateLimitedError",
  "TransportError",
  "ResponseDecodeError",
  "OAuthApiError",
  "ReauthorizationRequiredError"
])

/**
 * Lets real I/O (the file store) run for a while and reports whether `done` became true. Moving the `TestClock` costs
 * several event-loop timers, and most waits here are on I/O rather than on time, so the clock moves only after this.
 */
const waitForIo = (done: Effect.Effect<boolean>) =>
  Effect.gen(function*() {
    for (let flush = 0; flush < 32; flush++) {
      if (yield* done) return true
      yield* TestTime.flushIo
    }
    return yield* done
  })

/** `TestTime.runWithClock` that moves the clock (a second at a time) only while the effect waits on time, not I/O. */
const drive = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<Exit.Exit<A, E>> =>
  Effect.flatMap(Effect.fork(effect), (fiber) =>
    Effect.gen(function*() {
      for (let round = 0; round < 10_000; round++) {
        if (yield* waitForIo(Effect.map(fiber.poll, Option.isSome))) return yield* Fiber.await(fiber)
        yield* TestClock.adjust("1 second")
      }
      return yield* Effect.dieMessage("still running after 10,000 simulated seconds")
    }))

interface Manager {
  readonly scope: Scope.CloseableScope
  readonly service: TokenManager.Service
}

const plain = (value: unknown): string | undefined => {
  if (!Redacted.isRedacted(value)) return undefined
  const inner: unknown = Redacted.value(value)
  return typeof inner === "string" ? inner : undefined
}

const runProgram = <R>(
  kind: string,
  openStore: Effect.Effect<TokenStore.Service, TokenError.TokenStoreError, R>,
  program: Program,
  who: AccountId.AccountId = AccountId.defaultAccount
) =>
  Effect.gen(function*() {
    const s = statsFor(kind)
    s.runs++
    const fakeContext = yield* Layer.build(FakeDropboxSign.layerClientWith(Support.fakeOptions))
    const fake = Context.get(fakeContext, FakeDropboxSign.FakeDropboxSign)
    const busy = yield* Ref.make(0)
    const trace: Array<string> = []
    const injected: Array<(typeof faults)[number]> = []
    const note = (line: string) => {
      trace.push(line)
      if (process.env["RELIABILITY_TRACE"] === "1") console.log(`[${kind} run ${s.runs}] ${line}`)
    }
    const fail = (message: string) => Effect.dieMessage(`${message}\n  trace:\n    ${trace.join("\n    ")}`)

    let store = yield* Effect.orDie(openStore)
    const build = (current: TokenStore.Service) =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const context = yield* Layer.buildWithScope(
          Support.managerLayer({ backgroundRefresh: program.backgroundRefresh, backgroundInterval: "15 minutes" }),
          scope
        ).pipe(
          Effect.provide(Layer.succeed(TokenStore.TokenStore, instrument(current, busy))),
          Effect.provide(fakeContext),
          Effect.orDie
        )
        return { scope, service: Context.get(context, TokenManager.TokenManager) } satisfies Manager
      })
    let manager = yield* build(store)
    yield* Effect.addFinalizer(() => Scope.close(manager.scope, Exit.void))

    /** Waits until no refresh section runs, moving the clock only while one does (timeouts, backoffs, latency). */
    const settle = Effect.gen(function*() {
      for (let round = 0; round < 10_000; round++) {
        if (yield* waitForIo(Effect.map(Ref.get(busy), (n) => n === 0))) {
          // Twice more: a refresh forked just now (a caller interrupted after forking it) starts on a later tick.
          yield* TestTime.flushIo
          yield* Effect.yieldNow()
          if ((yield* Ref.get(busy)) === 0) return
        } else {
          yield* TestClock.adjust("1 second")
        }
      }
      return yield* fail("the manager never became idle")
    })

    const authorize = Effect.gen(function*() {
      const state = yield* OAuthState.make
      const code = yield* Effect.orDie(fake.issueCode({ state }))
      const token = yield* drive(manager.service.authorize(who, { code, state }, state)).pipe(
        Effect.flatten,
        Effect.orDie
      )
      const grant = (yield* fake.grants).find((g) =>
        Redacted.value(g.refreshToken) === Redacted.value(token.refreshToken)
      )
      if (grant === undefined) return yield* fail("the fake has no grant for the token just authorized")
      return grant.grantId
    })
    let grantId = yield* authorize

    const operation = (op: Operation) =>
      op === "accessToken"
        ? Effect.asVoid(manager.service.accessToken(who))
        : Effect.asVoid(manager.service.refresh(who))

    const reach = (at: Moment) =>
      at._tag === "Yields" ?
        (at.n === 0 ? Effect.void : Effect.repeatN(Effect.yieldNow(), at.n - 1)) :
        Effect.zipRight(TestClock.adjust(at.n), TestTime.flushIo)

    const checkExit = (label: string, exit: Exit.Exit<unknown, unknown>, interrupted = false) => {
      const tag = Support.outcomeTag(exit)
      note(`${label} → ${tag}`)
      if (tag === "Ok" || expectedFailures.has(tag) || (interrupted && tag === "Interrupted")) return Effect.void
      return fail(`${label} ended with ${tag}: ${String(exit)}`)
    }

    const restart = Effect.gen(function*() {
      s.restarts++
      const closed = yield* drive(Scope.close(manager.scope, Exit.void))
      if (Exit.isFailure(closed)) return yield* fail(`closing the manager failed: ${String(closed)}`)
      // A restarted process opens its store again; the memory store stands for one that outlives the process.
      store = yield* Effect.orDie(openStore)
      manager = yield* build(store)
    })

    // The newest token stored so far, and every token it replaced: none of those may come back.
    let lastVersion = 0
    const replaced = new Set<string>()
    let lastToken: string | undefined

    const check = (label: string) =>
      Effect.gen(function*() {
        yield* settle
        const stored = yield* Effect.orDie(store.get(who))
        if (Option.isNone(stored)) return yield* fail(`${label}: the account's tokens disappeared`)
        const entry = stored.value
        const token = Redacted.value(entry.token.refreshToken)
        if (entry.version < lastVersion) return yield* fail(`${label}: version went back to ${entry.version}`)
        if (token !== lastToken) {
          if (replaced.has(token)) return yield* fail(`${label}: an older refresh token was stored again`)
          if (lastToken !== undefined) replaced.add(lastToken)
          lastToken = token
        }
        lastVersion = entry.version
        const grant = (yield* fake.grants).find((g) => g.grantId === grantId)
        const current = grant !== undefined && !grant.revoked && Redacted.value(grant.refreshToken) === token
        if (current && entry.status === "active") return "current" as const
        // Faults are consumed first in, first out: the n-th faulted refresh request consumed the n-th injected fault.
        const faulted = (yield* fake.requests).filter((r) => r.route === "refresh" && r.fault !== undefined)
        if (faulted.some((request, i) => injected[i]?.fault._tag !== request.fault)) {
          return yield* fail(`${label}: the fake consumed faults in another order than they were injected`)
        }
        const consumedBy = faulted.flatMap((request, i) => {
          const injection = injected[i]
          return injection !== undefined && plain(request.body["refresh_token"]) === token ? [injection] : []
        })
        const lost = consumedBy.some((f) => f.lossy)
        const refused = consumedBy.some((f) => f.terminal)
        if (entry.status === "reauthorization_required") {
          const why = Support.explain(entry.statusReason)
          const explained = why === Support.lostAnswer ? lost : why !== undefined && (lost || refused)
          if (!explained) {
            return yield* fail(`${label}: marked for re-authorization without an explanation: ${entry.statusReason}`)
          }
          note(`${label}: marked (${why})`)
          return "marked" as const
        }
        if (lost) {
          note(`${label}: stale after a lossy request (outcome unknown to the client)`)
          return "doubt" as const
        }
        return yield* fail(`${label}: the stored refresh token is not the one the fake accepts and nothing explains it`)
      })

    yield* check("authorize")
    let sawDoubt = false
    for (const [index, step] of program.steps.entries()) {
      const label = `#${index} ${step._tag}`
      s.steps++
      switch (step._tag) {
        case "AccessToken":
        case "Refresh": {
          const op = step._tag === "AccessToken" ? "accessToken" : "refresh"
          yield* checkExit(label, yield* drive(operation(op)))
          break
        }
        case "Interrupt": {
          s.interrupts++
          const fiber = yield* Effect.fork(operation(step.operation))
          yield* reach(step.at)
          yield* checkExit(
            `${label} ${step.operation} at ${step.at.n} ${step.at._tag}`,
            yield* Fiber.interrupt(fiber),
            true
          )
          break
        }
        case "Restart": {
          if (Option.isSome(step.during)) {
            const { at, operation: op } = step.during.value
            const fiber = yield* Effect.fork(operation(op))
            yield* reach(at)
            yield* restart
            yield* checkExit(`${label} during ${op} at ${at.n} ${at._tag}`, yield* Fiber.interrupt(fiber), true)
          } else {
            yield* restart
            note(label)
          }
          break
        }
        case "ServerFault": {
          const chosen = faults[step.fault]
          s.faults++
          for (let i = 0; i < step.times; i++) injected.push(chosen)
          yield* fake.injectFault("refresh", chosen.fault, step.times)
          note(`${label} ${chosen.name} ×${step.times}`)
          break
        }
        case "Advance": {
          yield* TestClock.adjust(step.millis)
          note(`${label} ${step.millis / 1000} s`)
          break
        }
        case "Reauthorize": {
          grantId = yield* authorize
          note(label)
          break
        }
      }
      const verdict = yield* check(label)
      if (verdict === "doubt") sawDoubt = true
    }

    // The final check resolves any doubt: with the faults gone, a forced refresh succeeds or says why it cannot.
    // Requests the server is still sleeping on (`Latency`) are let through first.
    yield* fake.clearFaults
    if (injected.some((f) => f.fault._tag === "Latency")) yield* TestClock.adjust("15 seconds")
    const before = yield* check("before the final refresh")
    const final = yield* drive(manager.service.refresh(who))
    const after = yield* check("final refresh")
    if (before === "current" && Exit.isFailure(final)) {
      return yield* fail(`the final refresh failed with a valid refresh token stored: ${String(final)}`)
    }
    if (after === "doubt") return yield* fail("the final refresh left a stale refresh token unresolved")
    if (after === "current" && Exit.isFailure(final)) return yield* fail(`final refresh failed: ${String(final)}`)
    if (sawDoubt || before === "doubt") s.doubts++
    if (after === "marked") {
      const entry = Option.getOrThrow(yield* Effect.orDie(store.get(who)))
      const why = Support.explain(entry.statusReason) ?? "unexplained"
      s.reauthorizations.set(why, (s.reauthorizations.get(why) ?? 0) + 1)
    }
  }).pipe(
    Effect.scoped,
    // Spans are not what this property is about, and they are a good share of the runtime's work per step.
    Effect.withTracerEnabled(false)
  )

// -----------------------------------------------------------------------------
// the properties
// -----------------------------------------------------------------------------

/**
 * The stores under test and their share of the runs. Each store's runs are split into `lanes` properties that run
 * concurrently: a run spends much of its time waiting on timers and I/O, which the other lanes fill.
 */
/** Runs one program (a fast-check sample) over a store; `setup` runs once per lane and returns it. */
type Runner = (program: Program) => Effect.Effect<void>

/**
 * The stores under test and their runs. Each store's runs are split into `lanes` tests that run concurrently: a run
 * spends much of its time waiting on timers and I/O, which the other lanes fill.
 */
const stores: ReadonlyArray<{
  readonly title: string
  readonly runs: number
  readonly skip: boolean
  readonly setup: Effect.Effect<Runner, unknown, Scope.Scope>
}> = [
  {
    title: "memory store (one instance shared across restarts)",
    runs: Math.round(totalRuns * 0.6),
    skip: false,
    setup: Effect.succeed((program) =>
      Effect.flatMap(TokenStore.makeMemory, (memory) => runProgram("memory", Effect.succeed(memory), program))
    )
  },
  {
    title: "file store (temporary directory, real FileSystem, reopened on restart)",
    runs: totalRuns - Math.round(totalRuns * 0.6),
    skip: false,
    setup: Effect.succeed((program) =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const directory = yield* fs.makeTempDirectoryScoped({ directory: temporaryRoot, prefix: "dse-crash-" })
        yield* runProgram("file", TokenStore.makeFileSystem(`${directory}/tokens`), program)
      }).pipe(Effect.scoped, Effect.provide(NodeContext.layer), Effect.orDie)
    )
  },
  {
    title: "SQL store (PostgreSQL, reopened on restart)",
    runs: sqlRuns,
    skip: postgresSkipped,
    // One pool and one migrated schema per lane, dropped at its end; each run has an account of its own, deleted after
    // it (a manager loads every stored account at start).
    setup: Effect.gen(function*() {
      const pool = yield* Layer.build(postgres)
      const schema = `reliability_${Crypto.randomBytes(6).toString("hex")}`
      const sql = Context.get(pool, SqlClient.SqlClient)
      yield* Effect.acquireRelease(
        SqlTokenStoreMigrations.run({ schema }).pipe(Effect.provide(pool)),
        () => Effect.ignore(sql`DROP SCHEMA ${sql(schema)} CASCADE`)
      )
      const open = Effect.provide(SqlTokenStore.make({ schema }), pool)
      let run = 0
      return (program: Program) => {
        const account = AccountId.make(`run-${++run}`)
        return runProgram("sql", open, program, account).pipe(
          Effect.ensuring(Effect.ignore(Effect.flatMap(open, (store) => store.delete(account))))
        )
      }
    })
  }
]

const lanes = 2

describe.concurrent("crash-restart", () => {
  for (const [storeIndex, store] of stores.entries()) {
    for (let lane = 0; lane < lanes; lane++) {
      const numRuns = Math.floor(store.runs / lanes) + (lane < store.runs % lanes ? 1 : 0)
      const title = `${store.title}, lane ${lane + 1}/${lanes}: the newest refresh token is never lost unexplained`
      if (store.skip) {
        it.skip(title, () => {})
        continue
      }
      it.effect(
        title,
        () =>
          Effect.scoped(
            Effect.flatMap(Effect.orDie(store.setup), (runner) =>
              Support.checkProperty(programArb, runner, {
                numRuns,
                ...(seed === undefined ? {} : { seed: seed + storeIndex * lanes + lane })
              }))
          ),
        300_000
      )
    }
  }

  it.effect("a manager used after its scope closed does not leave callers waiting forever", () =>
    Effect.gen(function*() {
      const shared = yield* Layer.build(
        Layer.merge(TokenStore.layerMemory, FakeDropboxSign.layerClientWith(Support.fakeOptions))
      )
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(Support.managerLayer(), scope).pipe(Effect.provide(shared))
      const manager = Context.get(context, TokenManager.TokenManager)
      yield* Support.connect().pipe(Effect.provide(context), Effect.provide(shared))
      // An application that kept a reference past shutdown, asking for an expired token.
      yield* Scope.close(scope, Exit.void)
      yield* TestClock.adjust("1 hour")
      for (let attempt = 0; attempt < 2; attempt++) {
        const exit = yield* drive(manager.accessToken())
        expect(Support.outcomeTag(exit)).toBe("Interrupted")
      }
    }).pipe(Effect.scoped))

  it.effect("the model itself: a lossy fault with rotation is explained, and the final check resolves it", () =>
    Effect.gen(function*() {
      const memory = yield* TokenStore.makeMemory
      const lossy = faults.findIndex((f) => f.name === "reset, processed")
      yield* runProgram("memory (fixed program)", Effect.succeed(memory), {
        backgroundRefresh: false,
        steps: [{ _tag: "ServerFault", fault: lossy, times: 2 }, { _tag: "Refresh" }, { _tag: "AccessToken" }]
      })
      const recorded = statsFor("memory (fixed program)")
      expect(recorded.doubts).toBe(1)
      expect([...recorded.reauthorizations.keys()]).toStrictEqual([Support.lostAnswer])
      stats.delete("memory (fixed program)")
    }))
})
