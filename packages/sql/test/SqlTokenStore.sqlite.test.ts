/**
 * SQLite specifics: a database file that outlives the process, what the file holds when encrypted, and the errors.
 */
import * as Fs from "node:fs/promises"
import * as Os from "node:os"
import * as Path from "node:path"

import { AccountId, TokenCipher, TokenStore } from "@dropbox-sign-effect/oauth"
import { SqlTokenStore, SqlTokenStoreMigrations } from "@dropbox-sign-effect/sql"
import * as TokenStoreContract from "@dropbox-sign-effect/testing/TokenStoreContract"
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"

const account = AccountId.make("sqlite-account")
const { canary, makeToken } = TokenStoreContract

const key = TokenCipher.layer(Redacted.make("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"))

const temporaryDirectory = Effect.acquireRelease(
  Effect.promise(() => Fs.mkdtemp(Path.join(Os.tmpdir(), "sql-token-store-"))),
  (directory) => Effect.promise(() => Fs.rm(directory, { recursive: true, force: true }))
)

/** Opens the file, runs `use` with an encrypted store on it, and closes the file again. */
const withFileStore = <A, E>(filename: string, use: (store: TokenStore.Service) => Effect.Effect<A, E>) =>
  Effect.scoped(
    Effect.flatMap(
      Layer.build(
        SqlTokenStore.layerWithMigrations({ encrypted: true }).pipe(
          Layer.provide([key, SqliteClient.layer({ filename })])
        )
      ),
      (context) => use(Context.get(context, TokenStore.TokenStore))
    )
  )

describe("SqlTokenStore on SQLite", () => {
  it.scoped("a database file keeps the tokens across restarts, and never holds one in clear", () =>
    Effect.gen(function*() {
      const directory = yield* temporaryDirectory
      const filename = Path.join(directory, "tokens.db")
      yield* withFileStore(filename, (store) => store.set(account, makeToken("1"), { expectedVersion: null }))
      const read = yield* withFileStore(filename, (store) =>
        Effect.zipLeft(
          Effect.flatten(store.get(account)),
          store.set(account, makeToken("2"), { expectedVersion: 1 })
        ))
      expect(read.version).toBe(1)
      expect(Redacted.value(read.token.refreshToken)).toBe(`${canary.refreshToken}-1`)

      // Every byte SQLite left behind: the database, its write-ahead log and shared memory, if any.
      for (const file of yield* Effect.promise(() => Fs.readdir(directory))) {
        const bytes = yield* Effect.promise(() => Fs.readFile(Path.join(directory, file)))
        expect(bytes.includes(canary.accessToken)).toBe(false)
        expect(bytes.includes(canary.refreshToken)).toBe(false)
      }
    }))

  it.effect("without migrations the layer fails, saying to run them; they run once", () =>
    Effect.gen(function*() {
      const missing = yield* Effect.flip(Layer.build(SqlTokenStore.layer()))
      expect(missing._tag).toBe("TokenStoreError")
      expect(missing.message).toContain("run the migrations first")
      expect(yield* SqlTokenStoreMigrations.run({ table: "tokens" })).toStrictEqual([[1, "create_tokens"]])
      expect(yield* SqlTokenStoreMigrations.run({ table: "tokens" })).toStrictEqual([])
      const store = Context.get(yield* Layer.build(SqlTokenStore.layer({ table: "tokens" })), TokenStore.TokenStore)
      expect((yield* store.set(account, makeToken(), { expectedVersion: null })).version).toBe(1)
    }).pipe(Effect.scoped, Effect.provide(SqliteClient.layer({ filename: ":memory:" }))))

  it.effect("a tampered entry fails with TokenStoreError and no secret", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* SqlTokenStoreMigrations.run()
      const store = Context.get(
        yield* Layer.build(Layer.provide(SqlTokenStore.layer({ encrypted: true }), key)),
        TokenStore.TokenStore
      )
      yield* store.set(account, makeToken(), { expectedVersion: null })
      yield* sql`UPDATE dropbox_sign_tokens SET entry = substr(entry, 1, 30) || 'AAAA' || substr(entry, 35)`
      const error = yield* Effect.flip(store.get(account))
      expect(error._tag).toBe("TokenStoreError")
      expect(error.message).toMatch(/tampered|base64url/)
      expect(JSON.stringify(error) + error.message).not.toContain(canary.refreshToken)
    }).pipe(Effect.scoped, Effect.provide(SqliteClient.layer({ filename: ":memory:" }))))
})
