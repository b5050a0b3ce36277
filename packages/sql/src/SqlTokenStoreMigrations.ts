/**
 * The schema of `SqlTokenStore`: `@effect/sql` migrations for PostgreSQL and SQLite, run with the `@effect/sql`
 * migrator into a bookkeeping table of their own, so that they never mix with the application's migrations.
 *
 * @since 0.1.0
 */
import { TokenError } from "@dropbox-sign-effect/oauth"
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Layer, Option } from "effect"

import * as internalErrors from "./internal/sqlErrors.js"
import * as internalNames from "./internal/tableNames.js"

/**
 * Where the token table lives.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The token table; defaults to `"dropbox_sign_tokens"`. Its migrations are tracked in `<table>_migrations`. */
  readonly table?: string | undefined
  /**
   * The schema of both tables (PostgreSQL; on SQLite, an attached database). Defaults to the connection's
   * `search_path` (`main` on SQLite). `run` creates it on PostgreSQL when it does not exist.
   */
  readonly schema?: string | undefined
}

const resolveNames = internalNames.resolve

/**
 * The migrations, as a record for `Migrator.fromRecord` (`<id>_<name>` keys). Each migration has SQL for PostgreSQL
 * and SQLite and fails on other dialects.
 *
 * The table (version 1):
 *
 * | column | PostgreSQL | SQLite | |
 * |---|---|---|---|
 * | `account` | `text` primary key | `TEXT` primary key | the account id, in clear, so that operators can query it |
 * | `entry` | `text` | `TEXT` | `TokenStoreKit.encodeEntry`'s versioned encoding, `enc:v1:…` when encrypted |
 * | `version` | `integer` | `INTEGER` | the compare-and-set version (also inside `entry`; they must agree) |
 * | `status` | `text` | `TEXT` | `active` or `reauthorization_required`, in clear for monitoring |
 * | `created_at`, `updated_at` | `timestamptz` | ISO-8601 `TEXT` | database time of the first and the last write |
 *
 * @since 0.1.0
 * @category migrations
 */
export const migrations = (
  options?: Options | undefined
): Record<string, Effect.Effect<void, TokenError.TokenStoreError, SqlClient.SqlClient>> => ({
  "1_create_tokens": Effect.gen(function*() {
    const names = yield* resolveNames(options ?? {})
    const sql = yield* SqlClient.SqlClient
    const table = sql(names.table)
    const statement: Effect.Effect<unknown, SqlError | TokenError.TokenStoreError> = sql.onDialectOrElse({
      pg: () =>
        sql`CREATE TABLE IF NOT EXISTS ${table} (
  account text PRIMARY KEY,
  entry text NOT NULL,
  version integer NOT NULL CHECK (version > 0),
  status text NOT NULL CHECK (status IN ('active', 'reauthorization_required')),
  created_at timestamptz NOT NULL DEFAULT statement_timestamp(),
  updated_at timestamptz NOT NULL DEFAULT statement_timestamp()
)`,
      sqlite: () =>
        sql`CREATE TABLE IF NOT EXISTS ${table} (
  account TEXT PRIMARY KEY NOT NULL,
  entry TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version > 0),
  status TEXT NOT NULL CHECK (status IN ('active', 'reauthorization_required')),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)`,
      orElse: () =>
        Effect.fail(
          new TokenError.TokenStoreError({
            operation: "migrate",
            reason: "SqlTokenStore supports PostgreSQL and SQLite only"
          })
        )
    })
    yield* Effect.catchTag(statement, "SqlError", (error) => Effect.fail(internalErrors.toStoreError("migrate")(error)))
  })
})

const migrator = Migrator.make({})

/**
 * Runs the migrations that have not run yet and returns them as `[id, name]` pairs. Safe to run from every process
 * at start-up: on PostgreSQL the migrator locks its table, and a process that loses the race to create the
 * bookkeeping table tries again. Fails with `TokenStoreError` (operation `migrate`).
 *
 * @since 0.1.0
 * @category migrations
 * @example
 * ```ts
 * import { SqlTokenStoreMigrations } from "@dropbox-sign-effect/sql"
 * import { PgClient } from "@effect/sql-pg"
 * import { Config, Effect } from "effect"
 *
 * const migrate = SqlTokenStoreMigrations.run().pipe(
 *   Effect.provide(PgClient.layerConfig({ url: Config.redacted("DATABASE_URL") }))
 * )
 * ```
 */
export const run = (
  options?: Options | undefined
): Effect.Effect<ReadonlyArray<readonly [id: number, name: string]>, TokenError.TokenStoreError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const names = yield* resolveNames(options ?? {})
    const sql = yield* SqlClient.SqlClient
    const schema = names.schema
    if (schema !== undefined) {
      const create: Effect.Effect<unknown, SqlError> = sql.onDialectOrElse({
        pg: () => sql`CREATE SCHEMA IF NOT EXISTS ${sql(schema)}`,
        orElse: () => Effect.void
      })
      yield* create
    }
    return yield* migrator({ loader: Migrator.fromRecord(migrations(options)), table: names.migrationsTable })
  }).pipe(
    // The migrator turns a failing migration into a defect carrying a `MigrationError`: bring it back as a failure.
    Effect.catchSomeDefect((defect) =>
      defect instanceof Migrator.MigrationError ? Option.some(Effect.fail(defect)) : Option.none()
    ),
    Effect.catchTags({
      SqlError: (error) => Effect.fail(internalErrors.toStoreError("migrate")(error)),
      MigrationError: (error) =>
        Effect.fail(
          new TokenError.TokenStoreError({
            operation: "migrate",
            // A failing migration's own error (already translated) says more than "Migration … failed".
            reason: error.cause instanceof TokenError.TokenStoreError
              ? `${error.message}: ${error.cause.reason}`
              : error.message
          })
        )
    }),
    // Processes starting together race to create the schema and the bookkeeping table (PostgreSQL's `CREATE … IF NOT
    // EXISTS` is not atomic against itself); the loser finds them on the next attempt. No delay: nothing to wait for.
    Effect.retry({ times: 2 }),
    Effect.withSpan("SqlTokenStoreMigrations.run")
  )

/**
 * Runs the migrations when the layer is built.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: Options | undefined
): Layer.Layer<never, TokenError.TokenStoreError, SqlClient.SqlClient> => Layer.effectDiscard(run(options))
