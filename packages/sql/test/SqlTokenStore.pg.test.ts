/**
 * What only a real PostgreSQL shows: compare-and-set and the refresh lock across connection pools, encryption at rest
 * as the database sees it, lock timeouts, lost connections and the migrations.
 */
import { AccountId, OAuthConfig, TokenCipher, TokenError, TokenManager, TokenStore } from "@dropbox-sign-effect/oauth"
import { SqlTokenStore, SqlTokenStoreMigrations } from "@dropbox-sign-effect/sql"
import { FakeDropboxSign, TestTime } from "@dropbox-sign-effect/testing"
import * as TokenStoreContract from "@dropbox-sign-effect/testing/TokenStoreContract"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import {
  Array as Arr,
  Clock,
  Context,
  Deferred,
  Effect,
  Fiber,
  Layer,
  Option,
  Predicate,
  Queue,
  Redacted,
  Schema,
  TestClock
} from "effect"

import * as Postgres from "./utils/postgres.js"
import * as Proxy from "./utils/proxy.js"

const account = AccountId.make("pg-account")
const { canary, makeToken } = TokenStoreContract

const key = TokenCipher.layer(Redacted.make("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"))

interface OpenOptions {
  readonly encrypted?: boolean
  readonly lockTimeout?: SqlTokenStore.Options["lockTimeout"]
  readonly maxConnections?: number
  readonly url?: string
  readonly applicationName?: string
}

/** A store on `schema` with a connection pool of its own, as another process would have. */
const openStore = (schema: string, options: OpenOptions = {}) => {
  const client = Postgres.clientLayer({
    maxConnections: options.maxConnections ?? 4,
    ...(options.url === undefined ? {} : { url: options.url }),
    ...(options.applicationName === undefined ? {} : { applicationName: options.applicationName })
  })
  const store = options.encrypted === true
    ? SqlTokenStore.layer({ schema, lockTimeout: options.lockTimeout, encrypted: true }).pipe(Layer.provide(key))
    : SqlTokenStore.layer({ schema, lockTimeout: options.lockTimeout })
  return Effect.map(Layer.build(Layer.provide(store, client)), Context.get(TokenStore.TokenStore))
}

const rows = (schema: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT * FROM ${sql(`${schema}.${SqlTokenStore.defaultTable}`)}`)

const Live = Postgres.clientLayer()

const isStale = (error: unknown): error is TokenError.StaleTokenError => Predicate.isTagged(error, "StaleTokenError")

// As the lifecycle tests configure it: 10% of the lifetime (capped at 5 minutes), no jitter.
const oauthConfig = OAuthConfig.layer({
  clientId: FakeDropboxSign.defaultApp.clientId,
  clientSecret: FakeDropboxSign.defaultApp.clientSecret,
  refreshWindow: { jitter: 0 }
})

describe.skipIf(Postgres.skip)("SqlTokenStore on PostgreSQL", () => {
  describe("compare-and-set across processes", () => {
    it.live("of 24 writers of one version on two pools, exactly one wins; the others see the winner's version", () =>
      Effect.gen(function*() {
        const schema = yield* Postgres.migratedSchema
        const first = yield* openStore(schema)
        const second = yield* openStore(schema)
        yield* first.set(account, makeToken("0"), { expectedVersion: null })
        const results = yield* Effect.forEach(
          Arr.range(1, 24),
          (i) =>
            Effect.either((i % 2 === 0 ? first : second).set(account, makeToken(String(i)), { expectedVersion: 1 })),
          { concurrency: "unbounded" }
        )
        const winners = Arr.getRights(results)
        expect(winners).toHaveLength(1)
        for (const loser of Arr.getLefts(results)) {
          expect(isStale(loser)).toBe(true)
          if (isStale(loser)) expect([loser.expectedVersion, loser.actualVersion]).toStrictEqual([1, 2])
        }
        const stored = yield* Effect.flatten(second.get(account))
        expect(stored.version).toBe(2)
        expect(Redacted.value(stored.token.refreshToken)).toBe(Redacted.value(winners[0]!.token.refreshToken))
      }).pipe(Effect.scoped, Effect.provide(Live)))

    it.live("of 12 concurrent creators on two pools, one INSERT wins; the others are stale at version 1", () =>
      Effect.gen(function*() {
        const schema = yield* Postgres.migratedSchema
        const stores = [yield* openStore(schema), yield* openStore(schema)]
        const results = yield* Effect.forEach(
          Arr.range(1, 12),
          (i) => Effect.either(stores[i % 2]!.set(account, makeToken(String(i)), { expectedVersion: null })),
          { concurrency: "unbounded" }
        )
        expect(Arr.getRights(results)).toHaveLength(1)
        for (const loser of Arr.getLefts(results)) {
          expect(isStale(loser) && loser.expectedVersion === null && loser.actualVersion === 1).toBe(true)
        }
      }).pipe(Effect.scoped, Effect.provide(Live)))
  })

  describe("encryption at rest", () => {
    it.effect("an encrypted store never puts a token in the database in clear", () =>
      Effect.gen(function*() {
        const schema = yield* Postgres.migratedSchema
        const store = yield* openStore(schema, { encrypted: true })
        yield* store.set(account, makeToken("a"), { expectedVersion: null })
        yield* store.set(account, makeToken("b"), { expectedVersion: 1 })
        const [row] = yield* rows(schema)
        const raw = JSON.stringify(row)
        expect(raw).not.toContain(canary.accessToken)
        expect(raw).not.toContain(canary.refreshToken)
        expect(row).toMatchObject({ account, version: 2, status: "active" })
        expect(String(row?.entry)).toMatch(/^enc:v1:[A-Za-z0-9_-]+$/)
        // And it reads back.
        expect(Redacted.value((yield* Effect.flatten(store.get(account))).token.accessToken)).toBe(
          `${canary.accessToken}-b`
        )
      }).pipe(Effect.scoped, Effect.provide(Live)))

    it.effect("a plaintext store does hold the token in clear (the check above can fail)", () =>
      Effect.gen(function*() {
        const schema = yield* Postgres.migratedSchema
        const store = yield* openStore(schema)
        yield* store.set(account, makeToken("a"), { expectedVersion: null })
        expect(JSON.stringify(yield* rows(schema))).toContain(canary.refreshToken)
      }).pipe(Effect.scoped, Effect.provide(Live)))

    it.effect("tampered ciphertext, a missing key or a row edited by hand fail with TokenStoreError, no secret shown", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const schema = yield* Postgres.migratedSchema
        const table = sql(`${schema}.${SqlTokenStore.defaultTable}`)
        const encrypted = yield* openStore(schema, { encrypted: true })
        const plaintext = yield* openStore(schema)
        yield* encrypted.set(account, makeToken(), { expectedVersion: null })

        const withoutKey = yield* Effect.flip(plaintext.get(account))
        expect(withoutKey._tag).toBe("TokenStoreError")
        expect(withoutKey.message).toContain("no encryption key")

        yield* sql`UPDATE ${table} SET entry = overlay(entry placing
CASE WHEN substr(entry, 40, 1) = 'A' THEN 'B' ELSE 'A' END from 40 for 1)`
        const tampered = yield* Effect.flip(encrypted.get(account))
        expect(tampered._tag).toBe("TokenStoreError")
        expect(tampered.message).toContain("tampered")

        yield* plaintext.set(AccountId.make("other"), makeToken(), { expectedVersion: null })
        yield* sql`UPDATE ${table} SET version = 7 WHERE account = 'other'`
        const edited = yield* Effect.flip(plaintext.get(AccountId.make("other")))
        expect(edited.message).toContain("version")

        for (const error of [withoutKey, tampered, edited]) {
          for (const text of [error.message, String(error), JSON.stringify(error)]) {
            expect(text).not.toContain(canary.accessToken)
            expect(text).not.toContain(canary.refreshToken)
          }
        }
      }).pipe(Effect.scoped, Effect.provide(Live)))
  })

  describe("the refresh lock", () => {
    it.live("a lock held elsewhere past lockTimeout fails with a TokenStoreError; the effect never runs", () =>
      Effect.gen(function*() {
        const schema = yield* Postgres.migratedSchema
        const holder = yield* openStore(schema)
        const waiter = yield* openStore(schema, { lockTimeout: "300 millis" })
        const locked = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const holding = yield* Effect.fork(
          holder.withRefreshLock(account, Effect.zipRight(Deferred.succeed(locked, undefined), Deferred.await(release)))
        )
        yield* Deferred.await(locked)

        const start = yield* Clock.currentTimeMillis
        let ran = false
        const error = yield* Effect.flip(waiter.withRefreshLock(account, Effect.sync(() => ran = true)))
        const waited = (yield* Clock.currentTimeMillis) - start
        expect(error).toBeInstanceOf(TokenError.TokenStoreError)
        expect(error.message).toMatch(/lock.*timed out after 300ms waiting for the refresh lock/)
        expect(ran).toBe(false)
        expect(waited).toBeGreaterThanOrEqual(250)
        expect(waited).toBeLessThan(3_000)

        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(holding)
        expect(yield* waiter.withRefreshLock(account, Effect.succeed("free"))).toBe("free")
      }).pipe(Effect.scoped, Effect.provide(Live)))

    it.live("a write under the lock is durable at once and ends the lock: a waiter gets it and reads the write", () =>
      Effect.gen(function*() {
        const schema = yield* Postgres.migratedSchema
        const holder = yield* openStore(schema)
        const other = yield* openStore(schema)
        yield* holder.set(account, makeToken("1"), { expectedVersion: null })
        const reading = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const holding = yield* Effect.fork(holder.withRefreshLock(
          account,
          Effect.flatten(holder.get(account)).pipe(
            Effect.zipRight(Deferred.succeed(reading, undefined)),
            Effect.zipRight(Deferred.await(release)),
            Effect.zipRight(holder.set(account, makeToken("2"), { expectedVersion: 1 })),
            // The section goes on after its write, as a caller's code may; the lock is no longer needed.
            Effect.zipRight(Effect.never)
          )
        ))
        yield* Deferred.await(reading)
        const waiting = yield* Effect.fork(other.withRefreshLock(account, other.get(account)))
        yield* Postgres.lockWaiters(schema).pipe(Effect.repeat({ until: (waiters) => waiters > 0 }))
        expect(Option.map(yield* other.get(account), (entry) => entry.version)).toStrictEqual(Option.some(1))

        yield* Deferred.succeed(release, undefined)
        const seen = yield* Fiber.join(waiting)
        expect(Option.map(seen, (entry) => entry.version)).toStrictEqual(Option.some(2))
        expect(yield* Postgres.lockHolders(schema)).toStrictEqual([])
        yield* Fiber.interrupt(holding)
      }).pipe(Effect.scoped, Effect.provide(Live)))

    it.live("with a pool of one connection, the store works inside the lock and callers outside it wait", () =>
      Effect.gen(function*() {
        const schema = yield* Postgres.migratedSchema
        const store = yield* openStore(schema, { maxConnections: 1 })
        yield* store.set(account, makeToken("1"), { expectedVersion: null })
        const inside = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const locked = yield* Effect.fork(store.withRefreshLock(
          account,
          Effect.gen(function*() {
            const current = yield* Effect.flatten(store.get(account))
            yield* Deferred.succeed(inside, undefined)
            yield* Deferred.await(release)
            return yield* store.set(account, makeToken("2"), { expectedVersion: current.version })
          })
        ))
        yield* Deferred.await(inside)
        const outside = yield* Effect.fork(store.list)
        yield* Effect.sleep("100 millis")
        expect(Option.isNone(yield* Fiber.poll(outside))).toBe(true)
        yield* Deferred.succeed(release, undefined)
        expect((yield* Fiber.join(locked)).version).toBe(2)
        expect(yield* Fiber.join(outside)).toStrictEqual({ accounts: [account], unreadable: [] })
      }).pipe(Effect.scoped, Effect.provide(Live)))

    it.live("writes under the lock stay written when the effect then fails or is interrupted", () =>
      Effect.gen(function*() {
        const schema = yield* Postgres.migratedSchema
        const store = yield* openStore(schema)
        const other = yield* openStore(schema)
        yield* store.set(account, makeToken("1"), { expectedVersion: null })

        const failure = yield* Effect.flip(store.withRefreshLock(
          account,
          Effect.zipRight(store.set(account, makeToken("2"), { expectedVersion: 1 }), Effect.fail("boom" as const))
        ))
        expect(failure).toBe("boom")
        expect((yield* Effect.flatten(other.get(account))).version).toBe(2)

        const written = yield* Deferred.make<void>()
        const holding = yield* Effect.fork(store.withRefreshLock(
          account,
          store.set(account, makeToken("3"), { expectedVersion: 2 }).pipe(
            Effect.zipRight(Deferred.succeed(written, undefined)),
            Effect.zipRight(Effect.never)
          )
        ))
        yield* Deferred.await(written)
        yield* Fiber.interrupt(holding)
        expect((yield* Effect.flatten(other.get(account))).version).toBe(3)
        expect(yield* other.withRefreshLock(account, Effect.succeed("free"))).toBe("free")
      }).pipe(Effect.scoped, Effect.provide(Live)))

    it.live("a waiter interrupted while the lock is held elsewhere leaves no transaction on its pooled connection", () =>
      Effect.gen(function*() {
        const schema = yield* Postgres.migratedSchema
        const holder = yield* openStore(schema)
        // One connection: whatever the interrupted wait leaves on it, the next statements meet.
        const waiter = yield* openStore(schema, { maxConnections: 1, lockTimeout: "1 second" })
        yield* holder.set(account, makeToken("1"), { expectedVersion: null })
        const locked = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const holding = yield* Effect.fork(
          holder.withRefreshLock(account, Effect.zipRight(Deferred.succeed(locked, undefined), Deferred.await(release)))
        )
        yield* Deferred.await(locked)
        const waited = yield* waiter.withRefreshLock(account, Effect.void).pipe(
          Effect.timeout("300 millis"),
          Effect.option
        )
        expect(Option.isNone(waited)).toBe(true)
        for (let i = 0; i < 4; i++) expect((yield* Effect.flatten(waiter.get(account))).version).toBe(1)
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(holding)
        // The interrupted wait holds no lock either: it is free for the next taker.
        expect(yield* waiter.withRefreshLock(account, Effect.succeed("free"))).toBe("free")
      }).pipe(Effect.scoped, Effect.provide(Live)))

    it.live("a holder whose connection is killed loses the lock, and its write still lands on a fresh connection", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const schema = yield* Postgres.migratedSchema
        const store = yield* openStore(schema)
        const other = yield* openStore(schema, { lockTimeout: "2 seconds" })
        yield* store.set(account, makeToken("1"), { expectedVersion: null })
        const locked = yield* Deferred.make<void>()
        const killed = yield* Deferred.make<void>()
        const holding = yield* Effect.fork(store.withRefreshLock(
          account,
          Deferred.succeed(locked, undefined).pipe(
            Effect.zipRight(Deferred.await(killed)),
            Effect.zipRight(store.get(account)),
            Effect.zipRight(store.set(account, makeToken("2"), { expectedVersion: 1 }))
          )
        ))
        yield* Deferred.await(locked)
        const [pid] = yield* Postgres.lockHolders(schema)
        yield* sql`SELECT pg_terminate_backend(${pid})`
        // The database freed the lock with the connection.
        expect(yield* other.withRefreshLock(account, Effect.succeed("free"))).toBe("free")
        yield* Deferred.succeed(killed, undefined)

        // The holder's read and its compare-and-set write moved to a fresh pooled connection.
        expect((yield* Fiber.join(holding)).version).toBe(2)
        const stored = yield* Effect.flatten(other.get(account))
        expect(stored.version).toBe(2)
        expect(Redacted.value(stored.token.refreshToken)).toBe(Redacted.value(makeToken("2").refreshToken))
      }).pipe(Effect.scoped, Effect.provide(Live)))

    it.live("every pooled connection killed at once: the next operations and the lock work on fresh ones", () =>
      Effect.gen(function*() {
        const schema = yield* Postgres.migratedSchema
        const applicationName = `dst-kill-all-${schema}`
        const store = yield* openStore(schema, { maxConnections: 3, applicationName })
        yield* store.set(account, makeToken("1"), { expectedVersion: null })
        // Warm the pool: three idle connections, which the server then terminates under it.
        yield* Effect.all([store.list, store.list, store.list], { concurrency: 3 })
        yield* Postgres.terminateConnections(applicationName)

        // At once, before the pool has noticed: each operation meets a dead connection first, and tries a fresh one.
        expect(yield* store.withRefreshLock(account, Effect.map(Effect.flatten(store.get(account)), (e) => e.version)))
          .toBe(1)
        expect((yield* store.set(account, makeToken("2"), { expectedVersion: 1 })).version).toBe(2)
        expect((yield* store.list).accounts).toStrictEqual([account])
      }).pipe(Effect.scoped, Effect.provide(Live)))
  })

  describe("a database that goes away", () => {
    it.live("every operation fails with TokenStoreError while it is unreachable, and works again after", () =>
      Effect.gen(function*() {
        const schema = yield* Postgres.migratedSchema
        const proxy = yield* Proxy.make(Postgres.databaseUrl)
        const store = yield* openStore(schema, { url: proxy.url })
        yield* store.set(account, makeToken("1"), { expectedVersion: null })

        yield* proxy.cut
        const failures = [
          yield* Effect.flip(store.get(account)),
          yield* Effect.flip(store.set(account, makeToken("2"), { expectedVersion: 1 })),
          yield* Effect.flip(store.list),
          yield* Effect.flip(store.delete(account)),
          yield* Effect.flip(store.withRefreshLock(account, Effect.void))
        ]
        for (const error of failures) {
          expect(error).toBeInstanceOf(TokenError.TokenStoreError)
          expect(error.message).not.toContain(canary.refreshToken)
        }

        yield* proxy.restore
        expect((yield* Effect.flatten(store.get(account))).version).toBe(1)
      }).pipe(Effect.scoped, Effect.provide(Live)))

    it.effect("the token manager keeps serving a still-valid token while its store is down", () =>
      Effect.gen(function*() {
        const schema = yield* Postgres.migratedSchema
        const proxy = yield* Proxy.make(Postgres.databaseUrl)
        const store = yield* openStore(schema, { url: proxy.url })
        const context = yield* Layer.build(
          TokenManager.layerWithClient({ backgroundRefresh: false }).pipe(
            Layer.provideMerge(Layer.succeed(TokenStore.TokenStore, store)),
            Layer.provideMerge(oauthConfig),
            Layer.provideMerge(FakeDropboxSign.layerClient)
          )
        )
        const manager = Context.get(context, TokenManager.TokenManager)
        const fake = Context.get(context, FakeDropboxSign.FakeDropboxSign)
        const events = yield* manager.subscribe
        const state = "state-1"
        const code = yield* fake.issueCode({ state })
        const token = yield* manager.authorize(account, { code, state }, state)

        yield* proxy.cut
        // Inside the refresh window (the last 5 minutes of the hour), still valid.
        yield* TestClock.adjust("57 minutes")
        const served = yield* manager.accessToken(account)
        expect(Redacted.value(served)).toBe(Redacted.value(token.accessToken))
        const failed = yield* Queue.take(events).pipe(
          Effect.repeat({ until: (event) => event._tag === "RefreshFailed" }),
          TestTime.runWithClock,
          Effect.flatten
        )
        expect(failed).toMatchObject({ _tag: "RefreshFailed", error: "TokenStoreError" })
        expect(Redacted.value(yield* manager.accessToken(account))).toBe(Redacted.value(token.accessToken))
      }).pipe(Effect.scoped, Effect.provide(Live)))
  })

  describe("migrations", () => {
    it.live("create the table with its documented columns, run once, and run safely from many processes at once", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const schema = Postgres.schemaName()
        yield* Effect.addFinalizer(() => Effect.ignore(sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`))
        // Separate pools, as separate processes starting together would have; the schema does not exist yet.
        const runs = yield* Effect.forEach(
          Arr.range(1, 4),
          () =>
            SqlTokenStoreMigrations.run({ schema }).pipe(Effect.provide(Postgres.clientLayer({ maxConnections: 2 }))),
          { concurrency: "unbounded" }
        )
        expect(runs.flat()).toStrictEqual([[1, "create_tokens"]])
        expect(yield* SqlTokenStoreMigrations.run({ schema })).toStrictEqual([])

        const columns = yield* sql`SELECT column_name, data_type, is_nullable FROM information_schema.columns
WHERE table_schema = ${schema} AND table_name = ${SqlTokenStore.defaultTable} ORDER BY ordinal_position`
        expect(columns).toStrictEqual([
          { column_name: "account", data_type: "text", is_nullable: "NO" },
          { column_name: "entry", data_type: "text", is_nullable: "NO" },
          { column_name: "version", data_type: "integer", is_nullable: "NO" },
          { column_name: "status", data_type: "text", is_nullable: "NO" },
          { column_name: "created_at", data_type: "timestamp with time zone", is_nullable: "NO" },
          { column_name: "updated_at", data_type: "timestamp with time zone", is_nullable: "NO" }
        ])
        const tables = yield* sql`SELECT table_name FROM information_schema.tables WHERE table_schema = ${schema}
ORDER BY table_name`
        expect(tables.map((row) => row.table_name)).toStrictEqual([
          "dropbox_sign_tokens",
          "dropbox_sign_tokens_migrations"
        ])
      }).pipe(Effect.scoped, Effect.provide(Live)))

    it.effect("created_at stays and updated_at moves; status is readable in clear for monitoring", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const schema = yield* Postgres.migratedSchema
        const store = yield* openStore(schema, { encrypted: true })
        yield* store.set(account, makeToken("1"), { expectedVersion: null })
        yield* sql`SELECT pg_sleep(0.01)`
        yield* store.set(account, makeToken("1"), {
          expectedVersion: 1,
          status: "reauthorization_required",
          statusReason: "revoked"
        })
        const Row = Schema.Struct({
          status: Schema.String,
          created_at: Schema.DateFromSelf,
          updated_at: Schema.DateFromSelf
        })
        const [row] = yield* Effect.flatMap(
          sql`SELECT status, created_at, updated_at FROM ${sql(`${schema}.${SqlTokenStore.defaultTable}`)}`,
          Schema.decodeUnknown(Schema.Tuple(Row))
        )
        expect(row.status).toBe("reauthorization_required")
        expect(row.updated_at.getTime()).toBeGreaterThan(row.created_at.getTime())
      }).pipe(Effect.scoped, Effect.provide(Live)))

    it.effect("layerWithMigrations creates what it needs; layer without migrations says to run them", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const schema = Postgres.schemaName()
        yield* Effect.addFinalizer(() => Effect.ignore(sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`))
        const missing = yield* Effect.flip(Layer.build(SqlTokenStore.layer({ schema })))
        expect(missing.message).toContain("run the migrations first")

        const context = yield* Layer.build(SqlTokenStore.layerWithMigrations({ schema }))
        const store = Context.get(context, TokenStore.TokenStore)
        expect((yield* store.set(account, makeToken(), { expectedVersion: null })).version).toBe(1)

        const invalid = yield* Effect.flip(Layer.build(SqlTokenStore.layer({ schema, table: "tokens; drop" })))
        expect(invalid.message).toContain("plain SQL identifier")
      }).pipe(Effect.scoped, Effect.provide(Live)))
  })
})
