import * as Crypto from "node:crypto"
import * as NFS from "node:fs"
import * as OS from "node:os"
import * as NPath from "node:path"

import { AccountId, TokenCipher, TokenStore } from "@dropbox-sign-effect/oauth"
import * as TokenStoreContract from "@dropbox-sign-effect/testing/TokenStoreContract"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Redacted } from "effect"

import { expectStoreError } from "./expectStoreError.js"

const key = Redacted.make("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
const otherKey = Redacted.make("ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100")
const account = AccountId.make("alice@example.com")
const canaries = Object.values(TokenStoreContract.canary)
const posix = process.platform !== "win32"

const tempDirectory = Effect.acquireRelease(
  Effect.sync(() => NFS.mkdtempSync(NPath.join(OS.tmpdir(), "dse-token-files-"))),
  (directory) => Effect.sync(() => NFS.rmSync(directory, { recursive: true, force: true }))
)

/** A fresh, not yet existing, store directory inside a temporary directory removed after the test. */
const storeDirectory = Effect.map(tempDirectory, (directory) => NPath.join(directory, "nested", "tokens"))

const fileOf = (directory: string, id: string) =>
  NPath.join(directory, `${Crypto.createHash("sha256").update(id, "utf8").digest("hex")}.token`)

const read = (file: string) => Effect.sync(() => NFS.readFileSync(file, "utf8"))
const write = (file: string, text: string) => Effect.sync(() => NFS.writeFileSync(file, text))

const fileTest = (title: string, body: (directory: string) => Effect.Effect<void, unknown, NodeContext.NodeContext>) =>
  it.scoped(title, () => Effect.flatMap(storeDirectory, body).pipe(Effect.provide(NodeContext.layer)))

describe("TokenStore.layerFileSystem", () => {
  fileTest(
    "survives a restart: a new store over the same directory reads the token back",
    (directory) =>
      Effect.gen(function*() {
        const token = TokenStoreContract.makeToken()
        const before = yield* TokenStore.makeFileSystem(directory)
        yield* before.set(account, token, { expectedVersion: null })
        yield* before.set(account, token, { expectedVersion: 1, status: "reauthorization_required", statusReason: "r" })

        const after = yield* TokenStore.makeFileSystem(directory)
        const stored = yield* Effect.flatten(after.get(account))
        expect(stored.version).toBe(2)
        expect(stored.status).toBe("reauthorization_required")
        expect(stored.statusReason).toBe("r")
        expect(Redacted.value(stored.token.refreshToken)).toBe(Redacted.value(token.refreshToken))
        expect(yield* after.list).toStrictEqual({ accounts: [account], unreadable: [] })
        yield* after.set(account, token, { expectedVersion: 2 })
      })
  )

  fileTest("creates the directory with mode 0700 and writes files with mode 0600, leaving no temporary file", (
    directory
  ) =>
    Effect.gen(function*() {
      const store = yield* TokenStore.makeFileSystem(directory)
      for (let version = 0; version < 3; version++) {
        yield* store.set(account, TokenStoreContract.makeToken(), { expectedVersion: version === 0 ? null : version })
      }
      expect(NFS.readdirSync(directory)).toStrictEqual([NPath.basename(fileOf(directory, account))])
      if (posix) {
        expect(NFS.statSync(directory).mode & 0o777).toBe(0o700)
        expect(NFS.statSync(fileOf(directory, account)).mode & 0o777).toBe(0o600)
      }
    }))

  fileTest(
    "a corrupt file fails get and set with a clear TokenStoreError, is listed as unreadable, and is left untouched",
    (directory) =>
      Effect.gen(function*() {
        const store = yield* TokenStore.makeFileSystem(directory)
        yield* store.set(account, TokenStoreContract.makeToken(), { expectedVersion: null })
        const file = fileOf(directory, account)
        const corrupt = `{"format":1,"token":{"refreshToken":"${TokenStoreContract.canary.refreshToken}"`
        yield* write(file, corrupt)

        const error = yield* expectStoreError(store.get(account), "the entry is corrupt: it is not valid JSON")
        expect(error).toMatchObject({ operation: "decode", account })
        yield* expectStoreError(store.set(account, TokenStoreContract.makeToken(), { expectedVersion: 1 }), "not valid")
        yield* expectStoreError(
          store.set(account, TokenStoreContract.makeToken(), { expectedVersion: null }),
          "not valid"
        )
        const listing = yield* store.list
        expect(listing.accounts).toStrictEqual([])
        expect(listing.unreadable).toStrictEqual([{
          location: file,
          reason: "the entry is corrupt: it is not valid JSON"
        }])
        for (const canary of canaries) expect(JSON.stringify(listing)).not.toContain(canary)
        expect(yield* read(file)).toBe(corrupt)

        yield* store.delete(account)
        expect(yield* store.get(account)).toStrictEqual(Option.none())
      })
  )

  fileTest("an entry of an unknown format or of another account is rejected", (directory) =>
    Effect.gen(function*() {
      const store = yield* TokenStore.makeFileSystem(directory)
      const bob = AccountId.make("bob")
      yield* store.set(account, TokenStoreContract.makeToken("alice"), { expectedVersion: null })
      yield* store.set(bob, TokenStoreContract.makeToken("bob"), { expectedVersion: null })

      // Bob's file copied over Alice's must not hand Bob's token to Alice.
      yield* write(fileOf(directory, account), yield* read(fileOf(directory, bob)))
      yield* expectStoreError(store.get(account), "belongs to another account")
      expect(yield* store.list).toStrictEqual({
        accounts: [bob],
        unreadable: [{ location: fileOf(directory, account), reason: "the entry belongs to another account" }]
      })

      yield* write(fileOf(directory, account), "{\"format\":7}")
      yield* expectStoreError(store.get(account), "format 7, which this version cannot read")
    }))

  fileTest("foreign and temporary files in the directory are not listed", (directory) =>
    Effect.gen(function*() {
      const store = yield* TokenStore.makeFileSystem(directory)
      yield* store.set(account, TokenStoreContract.makeToken(), { expectedVersion: null })
      yield* write(NPath.join(directory, "README.txt"), "hello")
      yield* write(NPath.join(directory, `.${"0".repeat(64)}.abc.tmp`), "partial")
      expect(yield* store.list).toStrictEqual({ accounts: [account], unreadable: [] })
    }))

  fileTest("one corrupt entry among good ones: the good accounts are listed, the bad one reported on its own", (
    directory
  ) =>
    Effect.gen(function*() {
      const store = yield* TokenStore.makeFileSystem(directory)
      const others = ["bob", "carol", "dave"].map(AccountId.make)
      for (const id of [account, ...others]) {
        yield* store.set(id, TokenStoreContract.makeToken(id), { expectedVersion: null })
      }
      yield* write(fileOf(directory, "carol"), "not json at all")
      const listing = yield* store.list
      expect(listing.accounts).toStrictEqual([account, AccountId.make("bob"), AccountId.make("dave")].sort())
      expect(listing.unreadable).toStrictEqual([
        { location: fileOf(directory, "carol"), reason: "the entry is corrupt: it is not valid JSON" }
      ])
    }))

  fileTest(
    "temporary files of writes killed half-way are removed when the store opens, and by delete",
    (directory) =>
      Effect.gen(function*() {
        const store = yield* TokenStore.makeFileSystem(directory)
        const bob = AccountId.make("bob")
        yield* store.set(account, TokenStoreContract.makeToken("alice"), { expectedVersion: null })
        yield* store.set(bob, TokenStoreContract.makeToken("bob"), { expectedVersion: null })
        const keyOf = (id: string) => NPath.basename(fileOf(directory, id), ".token")
        // What a process killed between creating and renaming its temporary file leaves: a whole plaintext entry.
        const leftover = (id: string, random: string) => NPath.join(directory, `.${keyOf(id)}.${random}.tmp`)
        const entry = yield* read(fileOf(directory, account))
        yield* write(leftover(account, "0a1b2c3d4e5f6071"), entry)
        yield* write(leftover(bob, "8899aabbccddeeff"), entry)
        yield* write(NPath.join(directory, "README.txt"), "not ours")

        // `delete` (what `forget` and `logout` call) removes the account's leftovers with its entry.
        yield* store.delete(account)
        expect(NFS.existsSync(leftover(account, "0a1b2c3d4e5f6071"))).toBe(false)
        expect(NFS.existsSync(leftover(bob, "8899aabbccddeeff"))).toBe(true)

        // Opening the store removes every leftover, and nothing that is not one.
        yield* TokenStore.makeFileSystem(directory)
        expect(NFS.readdirSync(directory).sort()).toStrictEqual(
          [NPath.basename(fileOf(directory, bob)), "README.txt"].sort()
        )
        expect(Option.isSome(yield* store.get(bob))).toBe(true)
      })
  )

  fileTest(
    "a directory that cannot be created fails the layer with TokenStoreError",
    (directory) =>
      Effect.gen(function*() {
        NFS.mkdirSync(NPath.dirname(directory), { recursive: true })
        yield* write(directory, "a file, not a directory")
        yield* expectStoreError(TokenStore.makeFileSystem(directory), "not a directory")
        yield* expectStoreError(TokenStore.makeFileSystem(NPath.join(directory, "below")), "open failed")
      })
  )
})

describe("TokenStore.layerFileSystem (encrypted)", () => {
  fileTest("files hold no plaintext secret and read back with the key", (directory) =>
    Effect.gen(function*() {
      const cipher = yield* TokenCipher.make(key)
      const store = yield* TokenStore.makeFileSystem(directory, { cipher })
      const token = TokenStoreContract.makeToken()
      yield* store.set(account, token, { expectedVersion: null })
      const raw = yield* read(fileOf(directory, account))
      expect(raw.startsWith("enc:v1:")).toBe(true)
      for (const secret of [...canaries, Redacted.value(token.accessToken), account]) {
        expect(raw).not.toContain(secret)
        expect(Buffer.from(raw.slice(7), "base64url").toString("latin1")).not.toContain(secret)
      }
      const restarted = yield* TokenStore.makeFileSystem(directory, { cipher: yield* TokenCipher.make(key) })
      const stored = yield* Effect.flatten(restarted.get(account))
      expect(Redacted.value(stored.token.accessToken)).toBe(Redacted.value(token.accessToken))
    }))

  fileTest(
    "tampered ciphertext fails with TokenStoreError and is never overwritten",
    (directory) =>
      Effect.gen(function*() {
        const store = yield* TokenStore.makeFileSystem(directory, { cipher: yield* TokenCipher.make(key) })
        yield* store.set(account, TokenStoreContract.makeToken(), { expectedVersion: null })
        const file = fileOf(directory, account)
        const raw = yield* read(file)
        const bytes = Buffer.from(raw.slice("enc:v1:".length), "base64url")
        bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x01
        const tampered = `enc:v1:${bytes.toString("base64url")}`
        yield* write(file, tampered)
        yield* expectStoreError(store.get(account), "wrong key, or the entry was tampered with")
        yield* expectStoreError(store.set(account, TokenStoreContract.makeToken(), { expectedVersion: 1 }), "tampered")
        expect(yield* read(file)).toBe(tampered)
      })
  )

  fileTest("the wrong key fails with TokenStoreError; so does a missing key", (directory) =>
    Effect.gen(function*() {
      const store = yield* TokenStore.makeFileSystem(directory, { cipher: yield* TokenCipher.make(key) })
      yield* store.set(account, TokenStoreContract.makeToken(), { expectedVersion: null })
      const wrong = yield* TokenStore.makeFileSystem(directory, { cipher: yield* TokenCipher.make(otherKey) })
      yield* expectStoreError(wrong.get(account), "wrong key")
      const plain = yield* TokenStore.makeFileSystem(directory)
      yield* expectStoreError(plain.get(account), "no encryption key is configured")
    }))
})
