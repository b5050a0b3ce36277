/**
 * One process of the fleet storm (started by `fleet.ts`): its own `TokenManager` over its own `SqlTokenStore` and
 * connection pool on PostgreSQL, calling the fake. Says `{ ready }` once built, then answers each IPC message
 * (`Request`) with one `{ ok, value | error }`. Tokens never leave the process: it reports SHA-256 fingerprints.
 *
 * Environment: `BENCH_URL`, `BENCH_DATABASE_URL`, `BENCH_SCHEMA`, `BENCH_CLIENT_ID`, `BENCH_CLIENT_SECRET`, and
 * `BENCH_SQL_MODULE` (the bundled SQL store; the package by name when unset).
 */
import * as Crypto from "node:crypto"

import { AccountId, type TokenError, TokenManager, type TokenStore } from "@dropbox-sign-effect/oauth"
import { NodeHttpClient } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Array as Arr, Config, DateTime, Effect, Layer, Predicate, Redacted, Runtime, Schema } from "effect"

import { Request } from "./fleet.js"
import { config } from "./setup.js"
import { shiftedClock } from "./storm.js"

/**
 * `@dropbox-sign-effect/sql`, loaded at run time: `test/tsconfig.json` does not reference `packages/sql`, so a static
 * import would not type-check there (and the bundle carries it as an entry of its own, sharing `effect`). Only the
 * layer used here is described, and checked when loaded.
 */
interface SqlModule {
  readonly SqlTokenStore: {
    readonly layerWithMigrations: (options: {
      readonly schema: string
    }) => Layer.Layer<TokenStore.TokenStore, TokenError.TokenStoreError, SqlClient.SqlClient>
  }
}

const isSqlModule = (module: unknown): module is SqlModule =>
  Predicate.hasProperty(module, "SqlTokenStore") &&
  Predicate.hasProperty(module.SqlTokenStore, "layerWithMigrations") &&
  Predicate.isFunction(module.SqlTokenStore.layerWithMigrations)

const sqlPackage: string = process.env.BENCH_SQL_MODULE ?? "@dropbox-sign-effect/sql"

const loadSqlStore = Effect.flatMap(
  Effect.promise((): Promise<unknown> => import(sqlPackage)),
  (module) => isSqlModule(module) ? Effect.succeed(module) : Effect.dieMessage(`${sqlPackage}: unexpected exports`)
)

const account = AccountId.make("fleet-bench")

const fingerprint = (token: Redacted.Redacted<string>): string =>
  Crypto.createHash("sha256").update(Redacted.value(token), "utf8").digest("hex").slice(0, 16)

const main = Effect.gen(function*() {
  const url = yield* Config.string("BENCH_URL")
  const schema = yield* Config.string("BENCH_SCHEMA")
  const databaseUrl = yield* Config.redacted("BENCH_DATABASE_URL")
  const clientId = yield* Config.string("BENCH_CLIENT_ID")
  const clientSecret = yield* Config.string("BENCH_CLIENT_SECRET")
  const { SqlTokenStore } = yield* loadSqlStore

  const database = PgClient.layer({ url: databaseUrl, maxConnections: 3 })
  const context = yield* Layer.build(
    TokenManager.layerWithClient({ backgroundRefresh: false }).pipe(
      Layer.provide(Layer.orDie(config(url, { clientId, clientSecret }))),
      Layer.provide(SqlTokenStore.layerWithMigrations({ schema })),
      Layer.provide(NodeHttpClient.layerUndici),
      Layer.provideMerge(database)
    )
  )
  const manager = yield* Effect.provide(TokenManager.TokenManager, context)
  const sql = yield* Effect.provide(SqlClient.SqlClient, context)

  const handle = (request: typeof Request.Type): Effect.Effect<unknown, unknown> => {
    switch (request._tag) {
      case "Authorize":
        return Effect.asVoid(manager.authorize(account, { code: Redacted.make(request.code), state: "fleet" }, "fleet"))
      case "Current":
        return Effect.map(manager.token(account), (token) => ({
          expiresAtMillis: DateTime.toEpochMillis(token.expiresAt),
          fingerprint: fingerprint(token.accessToken)
        })).pipe(Effect.withClock(shiftedClock(request.offsetMillis)))
      case "Storm":
        return Effect.gen(function*() {
          const start = performance.now()
          const tokens = yield* Effect.forEach(
            Arr.makeBy(request.callers, () => manager.accessToken(account)),
            (effect) => effect,
            { concurrency: "unbounded" }
          )
          return { millis: performance.now() - start, fingerprints: Arr.dedupe(tokens.map(fingerprint)) }
        }).pipe(Effect.withClock(shiftedClock(request.offsetMillis)))
      case "DropSchema":
        return sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`
    }
  }

  const run = Runtime.runPromiseExit(yield* Effect.runtime<never>())
  const send = (message: unknown) => Effect.sync(() => process.send?.(message))
  process.on("message", (message: unknown) => {
    void run(
      Schema.decodeUnknown(Request)(message).pipe(
        Effect.flatMap(handle),
        Effect.matchCauseEffect({
          onFailure: (cause) => send({ ok: false, error: String(cause) }),
          onSuccess: (value) => send({ ok: true, value })
        })
      )
    )
  })
  yield* send({ ready: process.pid })
  yield* Effect.async<void>((resume) => {
    process.once("disconnect", () => resume(Effect.void))
  })
})

Effect.runPromise(Effect.scoped(main)).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`fleet child failed: ${String(error)}\n`)
    process.exit(1)
  }
)
