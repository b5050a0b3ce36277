/**
 * A `TokenStore` in PostgreSQL or SQLite through `@effect/sql`: compare-and-set in one statement, and on PostgreSQL a
 * refresh lock that holds across every process sharing the database, so that a fleet refreshes each account once.
 *
 * @since 0.1.0
 */
import { AccountId, TokenCipher, TokenError, TokenStore, TokenStoreKit } from "@dropbox-sign-effect/oauth"
import * as SqlClient from "@effect/sql/SqlClient"
import type { Statement } from "@effect/sql/Statement"
import { Array as Arr, DateTime, Duration, Effect, Layer, Option, Schema } from "effect"

import * as internalLock from "./internal/refreshLock.js"
import * as internalErrors from "./internal/sqlErrors.js"
import * as internalNames from "./internal/tableNames.js"
import * as SqlTokenStoreMigrations from "./SqlTokenStoreMigrations.js"

/**
 * The table used when `table` is not set.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultTable: string = internalNames.defaultTable

/**
 * How long `withRefreshLock` waits for another process's lock by default: longer than a refresh normally takes,
 * short enough that a caller stuck behind a hung process gets an answer.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultLockTimeout: Duration.Duration = Duration.seconds(10)

/**
 * @since 0.1.0
 * @category models
 */
export interface Options extends SqlTokenStoreMigrations.Options {
  /**
   * The longest wait for the refresh lock held by another process (PostgreSQL's `lock_timeout`); past it,
   * `withRefreshLock` fails with `TokenStoreError`. Defaults to `defaultLockTimeout` (10 seconds).
   */
  readonly lockTimeout?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface MakeOptions extends Options {
  /** Encrypts entries at rest. Defaults to `TokenCipher.plaintext`. */
  readonly cipher?: TokenCipher.Service | undefined
}

const VersionRows = Schema.Array(Schema.Struct({ version: Schema.Int }))
const EntryRows = Schema.Array(Schema.Struct({ entry: Schema.String, version: Schema.Int }))
const AccountRows = Schema.Array(Schema.Struct({ account: AccountId.AccountId }))

const decodeRows = <A, I>(
  schema: Schema.Schema<A, I>,
  operation: TokenError.StoreOperation,
  account?: AccountId.AccountId
) => {
  const decode = Schema.decodeUnknown(schema)
  return (rows: unknown): Effect.Effect<A, TokenError.TokenStoreError> =>
    Effect.mapError(decode(rows), () =>
      new TokenError.TokenStoreError({
        operation,
        ...(account === undefined ? {} : { account }),
        // The parse error would quote the row, which holds the (maybe plaintext) entry.
        reason: "the database returned rows of an unexpected shape; is the table the one the migrations created?"
      }))
}

/**
 * A `TokenStore` over the `SqlClient` in context, which must be PostgreSQL (`@effect/sql-pg`) or SQLite
 * (`@effect/sql-sqlite-node`). The table must exist: run `SqlTokenStoreMigrations` first (or use
 * `layerWithMigrations`); `make` checks it and fails with `TokenStoreError` otherwise.
 *
 * - Entries are `TokenStoreKit.encodeEntry`'s encoding (encrypted with `cipher`), the same as every other store.
 * - `set` is one statement: `UPDATE … WHERE account = $1 AND version = $2 RETURNING version`, or, to create,
 *   `INSERT … ON CONFLICT (account) DO NOTHING RETURNING version`. No row back means a lost race: the current version
 *   is read for the `StaleTokenError`.
 * - `withRefreshLock` on PostgreSQL takes a connection of its own from the pool, opens a transaction and takes
 *   `pg_advisory_xact_lock` for the account with `SET LOCAL lock_timeout`; the store's operations inside the effect
 *   run on that connection (so a pool of one cannot deadlock) and the transaction commits when the effect ends,
 *   whatever its outcome: its writes are compare-and-set writes, each valid on its own as in every other store, and
 *   undoing one (a rotated refresh token already stored) would sign the user out. A process that dies while holding
 *   the lock loses its connection, and PostgreSQL releases the lock with it. Fibers of one process queue on an
 *   in-process lock first, so a process uses at most one connection per account for locking.
 * - On SQLite the refresh lock is in-process only: SQLite serves one process (several processes may share the file
 *   for compare-and-set, which stays correct, but then each refreshes on its own: use PostgreSQL for a fleet).
 * - Database failures (unreachable, connection lost, missing table) are `TokenStoreError`s that name the problem
 *   without any token or parameter value.
 *
 * PostgreSQL settings to know: `idle_in_transaction_session_timeout` must exceed the longest refresh (the lock's
 * transaction is idle while the refresh request runs); transaction-mode poolers (PgBouncer) work, since the lock is
 * transaction-scoped. A pool of one connection works (callers outside the lock wait for it), but give the pool at
 * least two: `@effect/sql-pg` cancels an interrupted query through another pooled connection.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options?: MakeOptions | undefined
): Effect.Effect<TokenStore.Service, TokenError.TokenStoreError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const names = yield* internalNames.resolve(options ?? {})
    // Row keys must stay as written, whatever name transformations the application configured on its client.
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    const dialect = sql.onDialectOrElse({
      pg: () => "postgresql" as const,
      sqlite: () => "sqlite" as const,
      orElse: () => undefined
    })
    if (dialect === undefined) {
      return yield* new TokenError.TokenStoreError({
        operation: "configure",
        reason: "SqlTokenStore supports PostgreSQL and SQLite only"
      })
    }
    const cipher = options?.cipher ?? TokenCipher.plaintext
    const encoding = { cipher }
    const table = sql(names.table)
    const now = sql.literal(
      dialect === "postgresql" ? "statement_timestamp()" : "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
    )
    const lock = dialect === "postgresql"
      ? yield* internalLock.makePostgres(
        sql,
        names.lockNamespace,
        Duration.decode(options?.lockTimeout ?? defaultLockTimeout)
      )
      : yield* internalLock.makeInProcess

    const run = <A, I>(
      statement: Statement<unknown>,
      schema: Schema.Schema<A, I>,
      operation: TokenError.StoreOperation,
      account?: AccountId.AccountId
    ) =>
      lock.execute(statement).pipe(
        Effect.mapError(internalErrors.toStoreError(operation, account)),
        Effect.flatMap(decodeRows(schema, operation, account))
      )

    // Fail at start with a clear reason rather than at the first refresh.
    yield* run(sql`SELECT account FROM ${table} WHERE 1 = 0`, AccountRows, "open")

    const currentVersion = (account: AccountId.AccountId) =>
      Effect.map(
        run(sql`SELECT version FROM ${table} WHERE account = ${account}`, VersionRows, "set", account),
        (rows) => Option.getOrNull(Option.map(Arr.head(rows), (row) => row.version))
      )

    const get: TokenStore.Service["get"] = (account) =>
      run(sql`SELECT entry, version FROM ${table} WHERE account = ${account}`, EntryRows, "get", account).pipe(
        Effect.flatMap((rows) =>
          Option.match(Arr.head(rows), {
            onNone: () => Effect.succeedNone,
            onSome: (row) =>
              TokenStoreKit.decodeEntry(account, row.entry, encoding).pipe(
                Effect.filterOrFail(
                  (entry) => entry.version === row.version,
                  (entry) =>
                    new TokenError.TokenStoreError({
                      operation: "get",
                      account,
                      reason: `the entry says version ${entry.version} but its row says ${row.version}: ` +
                        "the row was changed outside the store"
                    })
                ),
                Effect.asSome
              )
          })
        )
      )

    const set: TokenStore.Service["set"] = (account, token, setOptions) =>
      Effect.gen(function*() {
        const expected = setOptions.expectedVersion
        // The database checks the version, atomically, in the statement below.
        const entry = yield* TokenStoreKit.nextEntry(account, token, setOptions, expected, yield* DateTime.now)
        const text = yield* TokenStoreKit.encodeEntry(entry, encoding)
        const statement = expected === null
          ? sql`INSERT INTO ${table} (account, entry, version, status, created_at, updated_at)
VALUES (${account}, ${text}, ${entry.version}, ${entry.status}, ${now}, ${now})
ON CONFLICT (account) DO NOTHING
RETURNING version`
          : sql`UPDATE ${table}
SET entry = ${text}, version = ${entry.version}, status = ${entry.status}, updated_at = ${now}
WHERE account = ${account} AND version = ${expected}
RETURNING version`
        const written = yield* lock.executeWrite(statement, (rows) => rows.length > 0).pipe(
          Effect.mapError(internalErrors.toStoreError("set", account)),
          Effect.flatMap(decodeRows(VersionRows, "set", account))
        )
        if (written.length === 0) {
          const actualVersion = yield* currentVersion(account)
          return yield* new TokenError.StaleTokenError({ account, expectedVersion: expected, actualVersion })
        }
        return entry
      })

    const del: TokenStore.Service["delete"] = (account) =>
      Effect.asVoid(run(sql`DELETE FROM ${table} WHERE account = ${account}`, Schema.Unknown, "delete", account))

    const list: TokenStore.Service["list"] = run(sql`SELECT account FROM ${table}`, AccountRows, "list").pipe(
      // Sorted here, not by the database, so that the order is the same as every other store's. A row always names
      // its account, so an unreadable entry is listed too, and reported by `get` for that account alone.
      Effect.map((rows): TokenStore.Listing => ({ accounts: rows.map((row) => row.account).sort(), unreadable: [] }))
    )

    return TokenStoreKit.withSpans("sql", {
      get,
      set,
      delete: del,
      list,
      withRefreshLock: lock.withLock,
      sharedRefreshLock: dialect === "postgresql"
    }, {
      "db.system.name": dialect
    })
  })

/**
 * The store over the `SqlClient` in context (see `make`). With `encrypted: true` it also requires a `TokenCipher`, so
 * an application cannot ask for encryption and silently store plaintext. The table must exist: run
 * `SqlTokenStoreMigrations.run` in a deployment step, or use `layerWithMigrations`.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * ```ts
 * import { OAuthConfig, TokenCipher, TokenManager } from "@dropbox-sign-effect/oauth"
 * import { SqlTokenStore } from "@dropbox-sign-effect/sql"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { PgClient } from "@effect/sql-pg"
 * import { Config, Layer } from "effect"
 *
 * // Every process of the fleet runs this: one refresh per account across all of them.
 * const TokensLive = TokenManager.layerWithClient().pipe(
 *   Layer.provide(SqlTokenStore.layer({ encrypted: true })),
 *   Layer.provide([
 *     PgClient.layerConfig({ url: Config.redacted("DATABASE_URL") }),
 *     TokenCipher.layerConfig(),
 *     OAuthConfig.layerConfig(),
 *     NodeHttpClient.layerUndici
 *   ])
 * )
 * ```
 */
export const layer = <const O extends Options & TokenStoreKit.CipherOptions = {}>(options?: O): StoreLayer<O> =>
  storeLayer(options, Effect.void)

/**
 * `layer`, after running `SqlTokenStoreMigrations.run` with the same table and schema: convenient when every process
 * may migrate at start-up (concurrent runs are safe).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithMigrations = <const O extends Options & TokenStoreKit.CipherOptions = {}>(
  options?: O
): StoreLayer<O> => storeLayer(options, SqlTokenStoreMigrations.run(options))

/**
 * What `layer` and `layerWithMigrations` give for `options`: a `TokenCipher` is required exactly when `encrypted`.
 *
 * @since 0.1.0
 * @category models
 */
export type StoreLayer<O> = Layer.Layer<
  TokenStore.TokenStore,
  TokenError.TokenStoreError,
  SqlClient.SqlClient | TokenStoreKit.CipherRequirement<O>
>

const storeLayer = <O extends Options & TokenStoreKit.CipherOptions>(
  options: O | undefined,
  prepare: Effect.Effect<void, TokenError.TokenStoreError, SqlClient.SqlClient>
): StoreLayer<O> =>
  Layer.effect(
    TokenStore.TokenStore,
    prepare.pipe(
      Effect.zipRight(TokenStoreKit.cipherFor(options)),
      Effect.flatMap((cipher) => make({ ...options, cipher }))
    )
  )
