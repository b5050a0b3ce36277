import * as Crypto from "node:crypto"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as NPath from "node:path"

import { AccountId, OAuthToken, TokenCipher, TokenStore, TokenStoreKit } from "@dropbox-sign-effect/oauth"
import * as TokenStoreContract from "@dropbox-sign-effect/testing/TokenStoreContract"
import { Error as PlatformError, KeyValueStore } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Layer, Option, Redacted, Schema } from "effect"

import { expectStoreError } from "./expectStoreError.js"

const key = Redacted.make("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
const cipherLayer = TokenCipher.layer(key)

const tempDirectory = Effect.acquireRelease(
  Effect.sync(() => NFS.mkdtempSync(NPath.join(OS.tmpdir(), "dse-token-store-"))),
  (directory) => Effect.sync(() => NFS.rmSync(directory, { recursive: true, force: true }))
)

const fileSystemLayer = (options?: { readonly encrypted: true }) =>
  Layer.unwrapScoped(Effect.map(tempDirectory, (directory) => {
    const tokens = NPath.join(directory, "tokens")
    return options?.encrypted === true
      ? TokenStore.layerFileSystem(tokens, { encrypted: true }).pipe(Layer.provide(cipherLayer))
      : TokenStore.layerFileSystem(tokens)
  })).pipe(Layer.provide(NodeContext.layer))

TokenStoreContract.run("TokenStore.layerMemory", TokenStore.layerMemory)
TokenStoreContract.run(
  "TokenStore.layerKeyValueStore (KeyValueStore.layerMemory)",
  TokenStore.layerKeyValueStore().pipe(Layer.provide(KeyValueStore.layerMemory))
)
TokenStoreContract.run(
  "TokenStore.layerKeyValueStore (encrypted, KeyValueStore.layerMemory)",
  TokenStore.layerKeyValueStore({ encrypted: true }).pipe(Layer.provide([KeyValueStore.layerMemory, cipherLayer]))
)
TokenStoreContract.run(
  "TokenStore.layerKeyValueStore (KeyValueStore.layerFileSystem of @effect/platform)",
  Layer.unwrapScoped(Effect.map(
    tempDirectory,
    (directory) =>
      TokenStore.layerKeyValueStore({ prefix: "app." }).pipe(
        Layer.provide(KeyValueStore.layerFileSystem(directory))
      )
  )).pipe(Layer.provide(NodeContext.layer))
)
TokenStoreContract.run("TokenStore.layerFileSystem", fileSystemLayer())
TokenStoreContract.run("TokenStore.layerFileSystem (encrypted)", fileSystemLayer({ encrypted: true }))

const account = AccountId.make("kv-account")
const sha256 = (text: string) => Crypto.createHash("sha256").update(text, "utf8").digest("hex")
const entryKey = (prefix: string, id: string) => prefix + sha256(id)

const kvTest = (
  title: string,
  body: (
    store: TokenStore.Service,
    kv: KeyValueStore.KeyValueStore
  ) => Effect.Effect<void, unknown, KeyValueStore.KeyValueStore>
) =>
  it.effect(title, () =>
    Effect.gen(function*() {
      const kv = yield* KeyValueStore.KeyValueStore
      const store = yield* TokenStore.makeKeyValueStore()
      yield* body(store, kv)
    }).pipe(Effect.provide(KeyValueStore.layerMemory)))

describe("TokenStore.layerKeyValueStore", () => {
  kvTest(
    "stores a versioned JSON entry under prefix + sha256(account), and an index",
    (store, kv) =>
      Effect.gen(function*() {
        const token = TokenStoreContract.makeToken()
        yield* store.set(account, token, { expectedVersion: null, statusReason: "fresh" })
        const raw = yield* Effect.flatten(kv.get(entryKey("dropbox-sign-token.", account)))
        expect(JSON.parse(raw)).toStrictEqual({
          format: 1,
          account,
          version: 1,
          status: "active",
          statusReason: "fresh",
          updatedAt: "1970-01-01T00:00:00.000Z",
          token: {
            accessToken: Redacted.value(token.accessToken),
            refreshToken: Redacted.value(token.refreshToken),
            tokenType: "Bearer",
            issuedAt: "2025-01-01T00:00:00.123Z",
            expiresAt: "2025-01-01T01:00:00.123Z"
          }
        })
        const index = yield* Effect.flatten(kv.get("dropbox-sign-token.index"))
        expect(JSON.parse(index)).toStrictEqual({ format: 1, accounts: [account] })
      })
  )

  kvTest(
    "a corrupt entry fails get and set with TokenStoreError and is left untouched",
    (store, kv) =>
      Effect.gen(function*() {
        const entry = entryKey("dropbox-sign-token.", account)
        yield* store.set(account, TokenStoreContract.makeToken(), { expectedVersion: null })
        yield* kv.set(entry, "{not json")
        yield* expectStoreError(store.get(account), "not valid JSON")
        yield* expectStoreError(
          store.set(account, TokenStoreContract.makeToken(), { expectedVersion: 1 }),
          "not valid JSON"
        )
        yield* expectStoreError(
          store.set(account, TokenStoreContract.makeToken(), { expectedVersion: null }),
          "not valid JSON"
        )
        expect(yield* kv.get(entry)).toStrictEqual(Option.some("{not json"))
        // delete is the way out.
        yield* store.delete(account)
        expect(yield* store.get(account)).toStrictEqual(Option.none())
      })
  )

  kvTest(
    "a corrupt index fails list, and set of a new account, with TokenStoreError",
    (store, kv) =>
      Effect.gen(function*() {
        yield* kv.set("dropbox-sign-token.index", "[1,2")
        yield* expectStoreError(store.list, "account index")
        yield* expectStoreError(store.set(account, TokenStoreContract.makeToken(), { expectedVersion: null }), "index")
        expect(yield* store.get(account)).toStrictEqual(Option.none())
      })
  )

  kvTest("list skips an indexed account whose entry is gone", (store, kv) =>
    Effect.gen(function*() {
      yield* store.set(account, TokenStoreContract.makeToken(), { expectedVersion: null })
      yield* kv.remove(entryKey("dropbox-sign-token.", account))
      expect(yield* store.list).toStrictEqual({ accounts: [], unreadable: [] })
    }))

  it.effect("honours the prefix, and two prefixes on one KeyValueStore are separate stores", () =>
    Effect.gen(function*() {
      const kv = yield* KeyValueStore.KeyValueStore
      const first = yield* TokenStore.makeKeyValueStore({ prefix: "first/" })
      const second = yield* TokenStore.makeKeyValueStore({ prefix: "second/" })
      yield* first.set(account, TokenStoreContract.makeToken("1"), { expectedVersion: null })
      expect(yield* kv.has(entryKey("first/", account))).toBe(true)
      expect(yield* second.get(account)).toStrictEqual(Option.none())
      expect(yield* second.list).toStrictEqual({ accounts: [], unreadable: [] })
    }).pipe(Effect.provide(KeyValueStore.layerMemory)))

  it.effect("a failing KeyValueStore surfaces as TokenStoreError", () =>
    Effect.gen(function*() {
      const failure = new PlatformError.SystemError({
        reason: "PermissionDenied",
        module: "KeyValueStore",
        method: "get"
      })
      const broken = KeyValueStore.makeStringOnly({
        get: () => Effect.fail(failure),
        set: () => Effect.fail(failure),
        remove: () => Effect.fail(failure),
        clear: Effect.fail(failure),
        size: Effect.fail(failure)
      })
      const store = yield* TokenStore.makeKeyValueStore().pipe(
        Effect.provideService(KeyValueStore.KeyValueStore, broken)
      )
      const error = yield* expectStoreError(store.get(account), "PermissionDenied")
      expect(error).toMatchObject({ operation: "get", account })
      yield* expectStoreError(
        store.set(account, TokenStoreContract.makeToken(), { expectedVersion: null }),
        "Permission"
      )
      yield* expectStoreError(store.delete(account), "PermissionDenied")
      yield* expectStoreError(store.list, "PermissionDenied")
    }))

  it.effect("an encrypted store refuses plaintext entries, and a plaintext store refuses encrypted ones", () =>
    Effect.gen(function*() {
      const cipher = yield* TokenCipher.make(key)
      yield* Effect.gen(function*() {
        const plain = yield* TokenStore.makeKeyValueStore()
        const encrypted = yield* TokenStore.makeKeyValueStore({ cipher })
        yield* plain.set(account, TokenStoreContract.makeToken(), { expectedVersion: null })
        yield* expectStoreError(encrypted.get(account), "not encrypted")
        yield* expectStoreError(encrypted.list, "not encrypted")
      }).pipe(Effect.provide(KeyValueStore.layerMemory))
      yield* Effect.gen(function*() {
        const plain = yield* TokenStore.makeKeyValueStore()
        const encrypted = yield* TokenStore.makeKeyValueStore({ cipher })
        yield* encrypted.set(account, TokenStoreContract.makeToken(), { expectedVersion: null })
        yield* expectStoreError(plain.get(account), "no encryption key")
      }).pipe(Effect.provide(KeyValueStore.layerMemory))
    }))
})

const entry = (token: OAuthToken.OAuthToken): TokenStore.StoredToken => ({
  account,
  token,
  version: 3,
  status: "reauthorization_required",
  statusReason: "revoked",
  updatedAt: DateTime.unsafeMake("2025-02-03T04:05:06.789Z")
})

describe("TokenStoreKit.encodeEntry / decodeEntry", () => {
  it.effect.prop(
    "round-trips any token, plain and encrypted",
    { token: OAuthToken.OAuthToken, version: Schema.Int.pipe(Schema.between(1, 1_000_000)) },
    ({ token, version }) =>
      Effect.gen(function*() {
        const cipher = yield* TokenCipher.make(key)
        for (const options of [undefined, { cipher }]) {
          const original = { ...entry(token), version }
          const decoded = yield* TokenStoreKit.decodeEntry(
            account,
            yield* TokenStoreKit.encodeEntry(original, options),
            options
          )
          expect(decoded.version).toBe(version)
          expect(decoded.status).toBe(original.status)
          expect(decoded.statusReason).toBe(original.statusReason)
          expect(DateTime.Equivalence(decoded.updatedAt, original.updatedAt)).toBe(true)
          expect(OAuthToken.sameSecrets(decoded.token, token)).toBe(true)
          expect(DateTime.Equivalence(decoded.token.expiresAt, token.expiresAt)).toBe(true)
        }
      }),
    { fastCheck: { numRuns: 50 } }
  )

  it.effect("rejects an unknown format, a schema mismatch and another account's entry, without secrets", () =>
    Effect.gen(function*() {
      const token = TokenStoreContract.makeToken()
      const encoded = yield* TokenStoreKit.encodeEntry(entry(token))
      const json: unknown = JSON.parse(encoded)
      expect(json).toMatchObject({ format: 1 })

      yield* expectStoreError(
        TokenStoreKit.decodeEntry(account, encoded.replace("\"format\":1", "\"format\":2")),
        "format 2, which this version cannot read"
      )
      const mismatch = yield* expectStoreError(
        TokenStoreKit.decodeEntry(account, encoded.replace("\"version\":3", "\"version\":\"3\"")),
        "does not match format 1 (at version)"
      )
      expect(mismatch.message).not.toContain(Redacted.value(token.accessToken))
      const emptySecret = encoded.replace(Redacted.value(token.refreshToken), "")
      yield* expectStoreError(TokenStoreKit.decodeEntry(account, emptySecret), "token.refreshToken")
      yield* expectStoreError(TokenStoreKit.decodeEntry(account, "[]"), "not an object with a format field")
      yield* expectStoreError(TokenStoreKit.decodeEntry(AccountId.make("someone-else"), encoded), "another account")
      // A JSON parse error would quote the input: the message must not.
      const truncated = encoded.slice(0, encoded.indexOf(TokenStoreContract.canary.refreshToken) + 30)
      yield* expectStoreError(TokenStoreKit.decodeEntry(account, truncated), "not valid JSON")
    }))
})
