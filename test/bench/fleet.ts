/**
 * 4. Fleet storm: `processes` processes (`fleetChild.ts`), each with its own manager and `SqlTokenStore` on one
 * PostgreSQL schema, read one account's token at once just past its expiry (a live clock shifted past it, as in
 * `storm.ts`); the fake counts the refresh requests. Skipped when the SQL store or the database is not there.
 */
import * as Fs from "node:fs"

import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Duration, Effect, Either, Redacted, Schema } from "effect"

import { type Bundle, type FakeServer, sqlIndex, startWorker, type Worker } from "./control.js"
import { median } from "./measure.js"
import { defaultCredentials } from "./setup.js"

export type Results =
  | { readonly _tag: "Skipped"; readonly reason: string }
  | { readonly _tag: "Failed"; readonly reason: string }
  | {
    readonly _tag: "Ran"
    readonly processes: number
    readonly callersPerProcess: number
    /** Refresh requests the fake received, per round (one expiry per round). */
    readonly refreshRequests: ReadonlyArray<number>
    /** Median time from sending the storm to every process until the last one answered, in milliseconds. */
    readonly medianMillis: number
    readonly millis: ReadonlyArray<number>
    /** Every caller of every process got the same, new token. */
    readonly consistent: boolean
  }

export interface Options {
  readonly processes: number
  readonly callersPerProcess: number
  readonly rounds: number
}

/** What `fleetChild.ts` is asked, one IPC message each. */
export const Request = Schema.Union(
  Schema.TaggedStruct("Authorize", { code: Schema.String }),
  /** The current token's expiry and fingerprint, on the live clock shifted by `offsetMillis`. */
  Schema.TaggedStruct("Current", { offsetMillis: Schema.Number }),
  /** `callers` concurrent `accessToken` calls on the live clock shifted by `offsetMillis`. */
  Schema.TaggedStruct("Storm", { offsetMillis: Schema.Number, callers: Schema.Int }),
  Schema.TaggedStruct("DropSchema", {})
)

const Reply = Schema.Union(
  Schema.Struct({ ok: Schema.Literal(true), value: Schema.Unknown }),
  Schema.Struct({ ok: Schema.Literal(false), error: Schema.String })
)
const Current = Schema.Struct({ expiresAtMillis: Schema.Number, fingerprint: Schema.String })
const Stormed = Schema.Struct({ millis: Schema.Number, fingerprints: Schema.Array(Schema.String) })

const ask = <A, I>(worker: Worker, request: typeof Request.Encoded, schema: Schema.Schema<A, I>) =>
  worker.request(request).pipe(
    Effect.flatMap(Schema.decodeUnknown(Reply)),
    Effect.flatMap((reply) =>
      reply.ok ?
        Schema.decodeUnknown(schema)(reply.value) :
        Effect.fail(new Error(`fleet child ${worker.pid}: ${reply.error}`))
    ),
    Effect.mapError((error) => error instanceof Error ? error : new Error(String(error)))
  )

const databaseUrl = process.env.DROPBOX_SIGN_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"
const schema = "dropbox_sign_bench"

const workerEnv = (bundled: Bundle, server: FakeServer) => ({
  ...(bundled.sqlStore === undefined ? {} : { BENCH_SQL_MODULE: bundled.sqlStore }),
  BENCH_URL: server.url,
  BENCH_DATABASE_URL: databaseUrl,
  BENCH_SCHEMA: schema,
  BENCH_CLIENT_ID: defaultCredentials.clientId,
  BENCH_CLIENT_SECRET: defaultCredentials.clientSecret
})

const storms = (bundled: Bundle, server: FakeServer, options: Options) =>
  Effect.gen(function*() {
    const env = workerEnv(bundled, server)
    // The first process creates the schema (migrations run in every process; concurrent runs are safe) and drops it
    // at the end, after the others have stopped (finalizers run in reverse).
    const first = yield* startWorker(bundled, "fleetChild", { env, timeout: Duration.minutes(3) })
    yield* Effect.addFinalizer(() => Effect.ignore(ask(first, { _tag: "DropSchema" }, Schema.Unknown)))
    const others = yield* Effect.forEach(
      Array.from({ length: options.processes - 1 }),
      () => startWorker(bundled, "fleetChild", { env, timeout: Duration.minutes(3) }),
      { concurrency: "unbounded" }
    )
    const workers = [first, ...others]
    const code = yield* server.issueCode({ state: "fleet" })
    yield* ask(first, { _tag: "Authorize", code }, Schema.Unknown)

    const rounds: Array<{ refreshes: number; millis: number; consistent: boolean }> = []
    let offsetMillis = 0
    for (let round = 0; round < options.rounds; round++) {
      const current = yield* ask(first, { _tag: "Current", offsetMillis }, Current)
      offsetMillis = current.expiresAtMillis - Date.now() + 1
      const before = (yield* server.counters).refreshRequests
      const start = performance.now()
      const results = yield* Effect.forEach(
        workers,
        (worker) => ask(worker, { _tag: "Storm", offsetMillis, callers: options.callersPerProcess }, Stormed),
        { concurrency: "unbounded" }
      )
      const millis = performance.now() - start
      const after = (yield* server.counters).refreshRequests
      const fingerprints = new Set(results.flatMap((r) => r.fingerprints))
      rounds.push({
        refreshes: after - before,
        millis,
        consistent: fingerprints.size === 1 && !fingerprints.has(current.fingerprint)
      })
    }
    return {
      _tag: "Ran",
      processes: options.processes,
      callersPerProcess: options.callersPerProcess,
      refreshRequests: rounds.map((r) => r.refreshes),
      medianMillis: median(rounds.map((r) => r.millis)),
      millis: rounds.map((r) => r.millis),
      consistent: rounds.every((r) => r.consistent)
    } satisfies Results
  }).pipe(Effect.scoped)

/** Whether PostgreSQL answers, as the SQL store's own tests check it. */
const probe = Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1`).pipe(
  Effect.provide(PgClient.layer({ url: Redacted.make(databaseUrl), connectTimeout: Duration.seconds(3) })),
  Effect.timeout(Duration.seconds(5)),
  Effect.either
)

export const run = (bundled: Bundle, server: FakeServer, options: Options): Effect.Effect<Results> =>
  Effect.gen(function*() {
    if (!Fs.existsSync(sqlIndex)) {
      return { _tag: "Skipped", reason: "SQL store not available (packages/sql/src/index.ts missing)" } as const
    }
    const reachable = yield* probe
    if (Either.isLeft(reachable)) {
      return {
        _tag: "Skipped",
        reason: `PostgreSQL not reachable at ${databaseUrl.replace(/:[^:@/]*@/, ":***@")}: ${reachable.left.message}`
      } as const
    }
    return yield* Effect.catchAll(
      storms(bundled, server, options),
      (error) => Effect.succeed<Results>({ _tag: "Failed", reason: error.message })
    )
  })
