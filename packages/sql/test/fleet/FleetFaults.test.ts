/**
 * The faults a fleet meets in production, each reproduced with real processes on a real PostgreSQL: the lock holder's
 * connection terminated while its refresh is in flight (rotation on), every connection of the fleet terminated during
 * a storm, and a cold start of thousands of callers on small pools.
 */
import { AccountId } from "@dropbox-sign-effect/oauth"
import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import { NodeContext } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Array as Arr, Effect, Layer, Redacted, Schedule } from "effect"

import * as Postgres from "../utils/postgres.js"
import * as Fleet from "./harness.js"

const TestLive = Layer.merge(NodeContext.layer, Postgres.clientLayer({ maxConnections: 4 }))

/** The refresh token the fake accepts now for the fleet's grant: after a rotation, the newest it issued. */
const acceptedRefreshToken = (fleet: Fleet.Fleet) =>
  Effect.map(fleet.fake.grants, (grants) => {
    const live = grants.filter((grant) => !grant.revoked)
    expect(live).toHaveLength(1)
    return Redacted.value(live[0]!.refreshToken)
  })

const startWorkers = (fleet: Fleet.Fleet, count: number, overrides: Parameters<Fleet.Fleet["config"]>[0] = {}) =>
  Effect.gen(function*() {
    const workers = yield* Effect.forEach(Arr.range(1, count), () => Fleet.spawn(fleet.config(overrides)), {
      concurrency: "unbounded"
    })
    yield* Effect.forEach(workers, (child) => Fleet.expect(child, "Ready", "20 seconds"), { concurrency: "unbounded" })
    return workers
  })

describe.skipIf(Postgres.skip)("a fleet under faults", () => {
  it.live(
    "the lock holder's connection is terminated mid-refresh (rotation on): the grant survives, every run",
    () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const rounds = 3
        const fleet = yield* Fleet.fleet({ defaultApp: { rotateRefreshTokens: true } })
        yield* fleet.authorize()
        for (let round = 1; round <= rounds; round++) {
          yield* fleet.expire
          // New processes each round: a cold cache reads the expired token from the store.
          const workers = yield* startWorkers(fleet, 3)
          yield* fleet.fake.resetLog
          // Dropbox Sign takes 2 seconds to answer each refresh: the holder is mid-request when its connection dies.
          yield* fleet.fake.injectFault("refresh", FakeDropboxSign.Fault.Latency({ duration: "2 seconds" }), 3)
          yield* Effect.forEach(workers, (child) => child.send({ _tag: "Burst", calls: 50 }), { discard: true })
          yield* fleet.fake.counters.pipe(
            Effect.repeat({
              until: (counters) => counters.refreshRequests >= 1,
              schedule: Schedule.spaced("10 millis")
            })
          )
          const [holder] = yield* Postgres.lockHolders(fleet.schema)
          expect(holder).toBeDefined()
          yield* sql`SELECT pg_terminate_backend(${holder!})`

          const bursts = yield* Effect.forEach(workers, (child) => Fleet.expect(child, "BurstDone", "30 seconds"), {
            concurrency: "unbounded"
          })
          yield* fleet.fake.clearFaults
          const stored = yield* Effect.flatten(fleet.store.get(Fleet.account))
          expect(stored.status).toBe("active")
          expect(Redacted.value(stored.token.refreshToken)).toBe(yield* acceptedRefreshToken(fleet))
          // 150 callers, and every one of them got the stored token.
          expect(bursts.flatMap((burst) => burst.failures)).toStrictEqual([])
          const fingerprint = yield* fleet.storedFingerprint
          for (const burst of bursts) expect(burst.tokens).toStrictEqual([fingerprint])
          yield* Effect.forEach(workers, (child) => child.kill("SIGKILL"), { discard: true })
        }
      }).pipe(Effect.scoped, Effect.provide(TestLive)),
    { timeout: 120_000 }
  )

  it.live(
    "every connection of the fleet terminated during a storm: callers wait for a reconnect, none fails",
    () =>
      Effect.gen(function*() {
        const fleet = yield* Fleet.fleet()
        yield* fleet.authorize()
        const workers = yield* startWorkers(fleet, 4)
        yield* fleet.expire
        yield* fleet.fake.resetLog
        yield* fleet.fake.injectFault("refresh", FakeDropboxSign.Fault.Latency({ duration: "500 millis" }), 4)
        yield* Effect.forEach(workers, (child) => child.send({ _tag: "Burst", calls: 200 }), { discard: true })
        yield* fleet.fake.counters.pipe(
          Effect.repeat({ until: (counters) => counters.refreshRequests >= 1, schedule: Schedule.spaced("10 millis") })
        )
        yield* Postgres.terminateConnections(fleet.applicationName)

        const bursts = yield* Effect.forEach(workers, (child) => Fleet.expect(child, "BurstDone", "30 seconds"), {
          concurrency: "unbounded"
        })
        expect(bursts.flatMap((burst) => burst.failures)).toStrictEqual([])
        const fingerprint = yield* fleet.storedFingerprint
        for (const burst of bursts) expect(burst.tokens).toStrictEqual([fingerprint])
        expect((yield* Effect.flatten(fleet.store.get(Fleet.account))).status).toBe("active")
      }).pipe(Effect.scoped, Effect.provide(TestLive)),
    { timeout: 60_000 }
  )

  it.live(
    "a cold start: 5 processes × 300 callers × 3 accounts on pools of 3 connections, and no caller fails",
    () =>
      Effect.gen(function*() {
        const fleet = yield* Fleet.fleet()
        const accounts = ["cold-a", "cold-b", "cold-c"].map(AccountId.make)
        yield* Effect.forEach(accounts, (id) => fleet.authorize(id), { discard: true })
        const workers = yield* startWorkers(fleet, 5, { maxConnections: 3 })
        yield* Effect.forEach(workers, (child) => child.send({ _tag: "Burst", calls: 300, accounts }), {
          discard: true
        })
        const bursts = yield* Effect.forEach(workers, (child) => Fleet.expect(child, "BurstDone", "30 seconds"), {
          concurrency: "unbounded"
        })
        expect(bursts.flatMap((burst) => burst.failures)).toStrictEqual([])
        for (const burst of bursts) expect(burst.tokens).toHaveLength(accounts.length)
        expect((yield* fleet.fake.counters).refreshRequests).toBe(0)
      }).pipe(Effect.scoped, Effect.provide(TestLive)),
    { timeout: 60_000 }
  )
})
