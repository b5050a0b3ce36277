/**
 * The PostgreSQL the tests use, and whether it is there: tests skip with a loud warning when it is not, except in CI
 * (`CI=true`), where an unreachable database must fail the run instead of silently testing nothing.
 */
import * as Crypto from "node:crypto"

import type { TokenError } from "@dropbox-sign-effect/oauth"
import { SqlTokenStoreMigrations } from "@dropbox-sign-effect/sql"
import { SqlClient, type SqlError } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import type { Scope } from "effect"
import { Cause, Duration, Effect, Either, Exit, Predicate, Redacted, Schema } from "effect"

import * as internalNames from "../../src/internal/tableNames.js"

export const databaseUrl = process.env.DROPBOX_SIGN_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"

export const isCI = process.env.CI === "true"

export const clientLayer = (
  options: { readonly maxConnections?: number; readonly url?: string; readonly applicationName?: string } = {}
) =>
  PgClient.layer({
    url: Redacted.make(options.url ?? databaseUrl),
    maxConnections: options.maxConnections ?? 10,
    connectTimeout: Duration.seconds(5),
    ...(options.applicationName === undefined ? {} : { applicationName: options.applicationName })
  })

/**
 * Terminates every connection opened with `applicationName`, as an administrator (or a failover) would: only those,
 * since other tests share the server.
 */
export const terminateConnections = (applicationName: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ${applicationName}`
  )

const probe = async (): Promise<string | undefined> => {
  const exit = await Effect.runPromiseExit(
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1`).pipe(
      Effect.provide(PgClient.layer({ url: Redacted.make(databaseUrl), connectTimeout: Duration.seconds(3) }))
    )
  )
  return Exit.isSuccess(exit) ? undefined : String(Cause.squash(exit.cause)) + describeCause(Cause.squash(exit.cause))
}

// The driver's own error says why (ECONNREFUSED, authentication, unknown database).
const describeCause = (error: unknown): string =>
  Predicate.hasProperty(error, "cause") && error.cause instanceof Error ? ` (${error.cause.message})` : ""

const unreachable = await probe()

if (unreachable !== undefined) {
  const banner = "=".repeat(100)
  console.warn(
    `\n${banner}\nPostgreSQL is NOT reachable at ${databaseUrl.replace(/:[^:@/]*@/, ":***@")}: ` +
      (isCI ? "CI=true, so the PostgreSQL tests run and FAIL." : "the PostgreSQL tests are SKIPPED.") +
      `\n${unreachable}\n${banner}\n`
  )
}

/** Skip the PostgreSQL tests: only outside CI, and only when the database is unreachable. */
export const skip: boolean = unreachable !== undefined && !isCI

/** A schema name no other test uses. */
export const schemaName = (): string => `dst_${Crypto.randomBytes(6).toString("hex")}`

/** Creates a schema for the scope and drops it (with everything in it) at the end. */
export const scopedSchema = (name: string = schemaName()) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.acquireRelease(
      Effect.as(sql`CREATE SCHEMA ${sql(name)}`, name),
      () => Effect.ignore(sql`DROP SCHEMA ${sql(name)} CASCADE`)
    ))

/** A migrated schema of its own, dropped with the scope. */
export const migratedSchema: Effect.Effect<
  string,
  SqlError.SqlError | TokenError.TokenStoreError,
  SqlClient.SqlClient | Scope.Scope
> = Effect.tap(scopedSchema(), (schema) => SqlTokenStoreMigrations.run({ schema }))

const advisoryLocks = (schema: string, granted: boolean) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const namespace = Either.getOrThrow(internalNames.resolve({ schema })).lockNamespace
    return sql`SELECT pid FROM pg_locks
WHERE locktype = 'advisory' AND granted = ${granted}
AND classid::bigint = (hashtext(${namespace})::bigint & 4294967295)`.pipe(
      Effect.flatMap(Schema.decodeUnknown(Schema.Array(Schema.Struct({ pid: Schema.Int })))),
      Effect.map((rows) => rows.map((row) => row.pid))
    )
  })

/**
 * The backends waiting for (not yet granted) a refresh lock of the token table in `schema`. The lock key is
 * `(hashtext(namespace), hashtext(account))`; `pg_locks` shows the first half as an unsigned `classid`.
 */
export const lockWaiters = (schema: string) => Effect.map(advisoryLocks(schema, false), (pids) => pids.length)

/** The backends holding a refresh lock of the token table in `schema`. */
export const lockHolders = (schema: string) => advisoryLocks(schema, true)
