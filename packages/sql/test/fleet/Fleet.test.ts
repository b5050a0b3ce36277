/**
 * A fleet of processes on one database: each child process runs its own `TokenManager` and `SqlTokenStore` (and pool)
 * against one `FakeDropboxSign` server started here. The refresh lock in PostgreSQL must make the whole fleet send one
 * refresh per expiry, survive a lock holder killed outright, and never present a rotated-out refresh token.
 */
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Array as Arr, Clock, Effect, Layer } from "effect"

import * as Postgres from "../utils/postgres.js"
import * as Fleet from "./harness.js"

const TestLive = Layer.merge(NodeContext.layer, Postgres.clientLayer({ maxConnections: 4 }))

const children = 8

describe.skipIf(Postgres.skip)("a fleet of processes on one PostgreSQL", () => {
  it.live(
    "8 processes × 200 concurrent callers at expiry: one refresh request, one new token for all",
    () =>
      Effect.gen(function*() {
        const fleet = yield* Fleet.fleet()
        const authorized = yield* fleet.authorize()
        const expired = yield* fleet.expire
        expect(expired.version).toBe(authorized.version + 1)
        const workers = yield* Effect.forEach(Arr.range(1, children), () => Fleet.spawn(fleet.config()), {
          concurrency: "unbounded"
        })
        yield* Effect.forEach(workers, (child) => Fleet.expect(child, "Ready", "20 seconds"), {
          concurrency: "unbounded"
        })
        yield* fleet.fake.resetLog

        // The start barrier: every process is up and idle; the commands go out together.
        yield* Effect.forEach(workers, (child) => child.send({ _tag: "Burst", calls: 200 }), { discard: true })
        const bursts = yield* Effect.forEach(workers, (child) => Fleet.expect(child, "BurstDone"), {
          concurrency: "unbounded"
        })

        const counters = yield* fleet.fake.counters
        expect(counters.refreshRequests).toBe(1)
        expect(counters.refreshesServed).toBe(1)
        expect(bursts.flatMap((burst) => burst.failures)).toStrictEqual([])
        const stored = yield* Effect.flatten(fleet.store.get(Fleet.account))
        expect(stored.version).toBe(expired.version + 1)
        const fingerprint = yield* fleet.storedFingerprint
        for (const burst of bursts) expect(burst.tokens).toStrictEqual([fingerprint])
      }).pipe(Effect.scoped, Effect.provide(TestLive)),
    { timeout: 60_000 }
  )

  it.live(
    "a process killed (SIGKILL) while holding the lock: another completes the refresh within the timeout",
    () =>
      Effect.gen(function*() {
        const lockTimeoutMillis = 8_000
        const fleet = yield* Fleet.fleet()
        yield* fleet.authorize()
        const expired = yield* fleet.expire
        const holder = yield* Fleet.spawn(fleet.config({ mode: "hold-lock" }))
        const worker = yield* Fleet.spawn(fleet.config({ lockTimeoutMillis }))
        yield* Fleet.expect(holder, "Locked", "20 seconds")
        yield* Fleet.expect(worker, "Ready", "20 seconds")
        yield* fleet.fake.resetLog

        yield* worker.send({ _tag: "Burst", calls: 50 })
        // The worker is now queued behind the hung holder, in PostgreSQL.
        yield* Fleet.awaitLockWaiter(fleet.schema)
        const killedAt = yield* Clock.currentTimeMillis
        yield* holder.kill("SIGKILL")
        const burst = yield* Fleet.expect(worker, "BurstDone", "20 seconds")
        const waited = (yield* Clock.currentTimeMillis) - killedAt

        expect(burst.failures).toStrictEqual([])
        expect(burst.tokens).toStrictEqual([yield* fleet.storedFingerprint])
        expect(waited).toBeLessThan(lockTimeoutMillis)
        expect((yield* fleet.fake.counters).refreshRequests).toBe(1)
        expect((yield* Effect.flatten(fleet.store.get(Fleet.account))).version).toBe(expired.version + 1)
      }).pipe(Effect.scoped, Effect.provide(TestLive)),
    { timeout: 60_000 }
  )

  it.live(
    "with rotation, 50 rounds of refreshes across processes never present a retired refresh token",
    () =>
      Effect.gen(function*() {
        const rounds = 50
        const fleet = yield* Fleet.fleet({ defaultApp: { rotateRefreshTokens: true } })
        const authorized = yield* fleet.authorize()
        const workers = yield* Effect.forEach(Arr.range(1, children), () => Fleet.spawn(fleet.config()), {
          concurrency: "unbounded"
        })
        yield* Effect.forEach(workers, (child) => Fleet.expect(child, "Ready", "20 seconds"), {
          concurrency: "unbounded"
        })
        yield* fleet.fake.resetLog

        for (let round = 1; round <= rounds; round++) {
          // Every process asks at once; each knows the version of the previous round, so one refreshes, the rest adopt.
          yield* Effect.forEach(workers, (child) => child.send({ _tag: "Refresh" }), { discard: true })
          const answers = yield* Effect.forEach(workers, (child) => Fleet.expect(child, "Refreshed"), {
            concurrency: "unbounded"
          })
          expect(Arr.dedupe(answers.map((answer) => answer.version))).toStrictEqual([authorized.version + round])
          expect(Arr.dedupe(answers.map((answer) => answer.token))).toStrictEqual([yield* fleet.storedFingerprint])
        }

        const counters = yield* fleet.fake.counters
        expect(counters.rejected).toBe(0)
        expect(counters.refreshRequests).toBe(rounds)
        expect(counters.refreshesServed).toBe(rounds)
      }).pipe(Effect.scoped, Effect.provide(TestLive)),
    { timeout: 60_000 }
  )
})
