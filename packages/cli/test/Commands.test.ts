import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"

import { Browser } from "@dropbox-sign-effect/cli"
import { AccountId, TokenStore } from "@dropbox-sign-effect/oauth"
import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Option, Redacted, TestClock } from "effect"

import { clientSecret, envFor, runCli, secretsOf, seed, snapshot, tempDir } from "./utils/harness.js"

// A fresh fake per test: the in-memory client answers every host, so the default Dropbox Sign URLs work.
const TestLive = Layer.mergeAll(FakeDropboxSign.layerClient, NodeContext.layer, Browser.layerNoop)

const alice = AccountId.make("alice")

/** The one line an expected failure prints. */
const expectOneErrorLine = (stderr: string, text: string) => {
  const lines = stderr.trimEnd().split("\n")
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^error: /)
  expect(lines[0]).toContain(text)
  expect(stderr).not.toMatch(/\n\s+at /)
}

describe("token", () => {
  it.scoped("prints the access token and nothing else", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      const token = yield* seed(directory)
      const result = yield* runCli(["token"], envFor(directory))
      expect(result).toEqual({ code: 0, stdout: `${Redacted.value(token.accessToken)}\n`, stderr: "" })
    }).pipe(Effect.provide(TestLive)))

  it.scoped("refreshes an expired token first, once", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      const token = yield* seed(directory, alice)
      yield* TestClock.adjust("2 hours")
      const result = yield* runCli(["token", "--account", "alice"], envFor(directory))
      expect(result.code).toBe(0)
      const printed = result.stdout.trimEnd()
      expect(printed).not.toBe(Redacted.value(token.accessToken))
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      expect((yield* fake.counters).refreshRequests).toBe(1)
      // What it printed is what the store now holds.
      const stored = yield* Effect.flatMap(TokenStore.TokenStore, (store) => store.get(alice)).pipe(
        Effect.provide(TokenStore.layerFileSystem(directory))
      )
      expect(Option.map(stored, (entry) => Redacted.value(entry.token.accessToken))).toEqual(Option.some(printed))
    }).pipe(Effect.provide(TestLive)))

  it.scoped("takes the configuration from flags", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      const token = yield* seed(directory)
      const result = yield* runCli([
        "token",
        "--client-id",
        FakeDropboxSign.defaultApp.clientId,
        "--client-secret",
        clientSecret,
        "--store-dir",
        directory
      ], {})
      expect(result).toEqual({ code: 0, stdout: `${Redacted.value(token.accessToken)}\n`, stderr: "" })
    }).pipe(Effect.provide(TestLive)))

  it.scoped("an unknown account: one clear line, exit 1, the store untouched", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      yield* seed(directory)
      const before = yield* snapshot(directory)
      const result = yield* runCli(["token", "--account", "nobody"], envFor(directory))
      expect(result.code).toBe(1)
      expect(result.stdout).toBe("")
      expectOneErrorLine(
        result.stderr,
        "No token is stored for account \"nobody\": run `dropbox-sign-oauth authorize --account nobody` first"
      )
      expect(yield* snapshot(directory)).toEqual(before)
    }).pipe(Effect.provide(TestLive)))

  it.scoped("missing configuration names the variable and the flag", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      const noId = yield* runCli(["token"], { DROPBOX_SIGN_TOKEN_DIR: directory })
      expect(noId.code).toBe(1)
      expectOneErrorLine(noId.stderr, "Missing DROPBOX_SIGN_CLIENT_ID: set it or pass --client-id")
      const noSecret = yield* runCli(["token"], {
        DROPBOX_SIGN_CLIENT_ID: "id",
        DROPBOX_SIGN_CLIENT_SECRET: "",
        DROPBOX_SIGN_TOKEN_DIR: directory
      })
      expect(noSecret.code).toBe(1)
      expectOneErrorLine(noSecret.stderr, "Missing DROPBOX_SIGN_CLIENT_SECRET: set it or pass --client-secret")
      const badUrl = yield* runCli(["token"], envFor(directory, { DROPBOX_SIGN_OAUTH_URL: "http://example.com" }))
      expect(badUrl.code).toBe(1)
      expectOneErrorLine(badUrl.stderr, "Invalid DROPBOX_SIGN_OAUTH_URL")
      expect(badUrl.stderr).toContain("pass --oauth-url")
    }).pipe(Effect.provide(TestLive)))

  it.scoped("a revoked grant asks for re-authorization", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      yield* seed(directory, alice)
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      yield* fake.revokeGrant()
      yield* TestClock.adjust("2 hours")
      const result = yield* runCli(["token", "-a", "alice"], envFor(directory))
      expect(result.code).toBe(1)
      expect(result.stdout).toBe("")
      expectOneErrorLine(result.stderr, "Account \"alice\" must be authorized again")
      expect(result.stderr).toContain("run `dropbox-sign-oauth authorize --account alice`")
    }).pipe(Effect.provide(TestLive)))
})

describe("refresh", () => {
  it.scoped("refreshes now and prints the new expiry, never the token", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      const token = yield* seed(directory)
      yield* TestClock.adjust("10 minutes")
      const result = yield* runCli(["refresh"], envFor(directory))
      expect(result.code).toBe(0)
      expect(result.stdout).toBe("✓ Refreshed account \"default\": the new access token expires in 1h 0m\n")
      expect(result.stderr).toBe("")
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      expect((yield* fake.counters).refreshesServed).toBe(1)
      for (const secret of secretsOf(token)) expect(result.stdout).not.toContain(secret)
    }).pipe(Effect.provide(TestLive)))

  it.scoped("an unknown account fails with exit 1", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      const result = yield* runCli(["refresh", "--account", "ghost"], envFor(directory))
      expect(result.code).toBe(1)
      expectOneErrorLine(result.stderr, "No token is stored for account \"ghost\"")
    }).pipe(Effect.provide(TestLive)))
})

describe("status", () => {
  it.scoped("a table of the accounts, without credentials", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      yield* seed(directory)
      yield* TestClock.adjust("30 minutes")
      yield* seed(directory, alice)
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      yield* TestClock.adjust("45 minutes")
      // `default` is expired now; revoking alice's grant and refreshing marks her for re-authorization.
      yield* fake.revokeGrant()
      const refresh = yield* runCli(["refresh", "-a", "alice"], envFor(directory))
      expect(refresh.code).toBe(1)
      const result = yield* runCli(["status"], { DROPBOX_SIGN_TOKEN_DIR: directory })
      expect(result.code).toBe(0)
      expect(result.stderr).toBe("")
      expect(result.stdout.split("\n")).toEqual([
        "ACCOUNT  EXPIRES IN          LAST REFRESH  STATE",
        "alice    -                   45m 0s ago    reauthorization required",
        "default  expired 15m 0s ago  1h 15m ago    expired (refreshes on next use)",
        ""
      ])
    }).pipe(Effect.provide(TestLive)))

  it.scoped("a corrupt entry among good ones: the good accounts are listed, the bad one shown as corrupt with the fix", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      yield* seed(directory)
      yield* seed(directory, alice)
      const bob = AccountId.make("bob")
      yield* seed(directory, bob)
      const corrupt = Path.join(directory, `${Crypto.createHash("sha256").update(bob, "utf8").digest("hex")}.token`)
      yield* Effect.sync(() => Fs.writeFileSync(corrupt, "{ torn"))
      const result = yield* runCli(["status"], { DROPBOX_SIGN_TOKEN_DIR: directory })
      expect(result.code).toBe(0)
      const lines = result.stdout.trimEnd().split("\n")
      expect(lines).toHaveLength(4)
      expect(lines[1]).toMatch(/^alice +1h 0m +0s ago +active$/)
      expect(lines[2]).toMatch(/^default +1h 0m +0s ago +active$/)
      expect(lines[3]).toContain("corrupt: the entry is corrupt: it is not valid JSON")
      expect(lines[3]).toContain(corrupt)
      expect(lines[3]).toContain("delete it and authorize the account again")
    }).pipe(Effect.provide(TestLive)))

  it.scoped("an empty or missing store", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      const missing = yield* runCli(["status", "--store-dir", `${directory}/nothing-here`], {})
      expect(missing.code).toBe(0)
      expect(missing.stdout).toContain("No accounts stored in")
      // Reading did not create the directory.
      const again = yield* runCli(["status"], { DROPBOX_SIGN_TOKEN_DIR: `${directory}/nothing-here` })
      expect(again.stdout).toBe(missing.stdout)
    }).pipe(Effect.provide(TestLive)))

  it.scoped("defaults to $XDG_CONFIG_HOME/dropbox-sign-oauth, else ~/.config/dropbox-sign-oauth", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      const xdg = yield* runCli(["status"], { XDG_CONFIG_HOME: directory, HOME: "/nonexistent" })
      expect(xdg.stdout).toContain(`${directory}/dropbox-sign-oauth`)
      const home = yield* runCli(["status"], { HOME: directory })
      expect(home.stdout).toContain(`${directory}/.config/dropbox-sign-oauth`)
    }).pipe(Effect.provide(TestLive)))
})

describe("account", () => {
  it.scoped("shows who the token acts for", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      const token = yield* seed(directory)
      const result = yield* runCli(["account"], envFor(directory))
      expect(result.code).toBe(0)
      expect(result.stdout).toContain("jack@example.com")
      expect(result.stdout).toContain(FakeDropboxSign.defaultAccount.accountId)
      for (const secret of secretsOf(token)) expect(result.stdout + result.stderr).not.toContain(secret)
      const json = yield* runCli(["account", "--json"], envFor(directory))
      expect(json.code).toBe(0)
      expect(JSON.parse(json.stdout)).toMatchObject({ account: { email_address: "jack@example.com" } })
    }).pipe(Effect.provide(TestLive)))

  it.scoped("an unknown account fails with exit 1", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      const result = yield* runCli(["account", "--account", "ghost"], envFor(directory))
      expect(result.code).toBe(1)
      expectOneErrorLine(result.stderr, "No token is stored for account \"ghost\"")
    }).pipe(Effect.provide(TestLive)))
})

describe("logout", () => {
  it.scoped("deletes only that account's tokens", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      yield* seed(directory)
      yield* seed(directory, alice)
      const result = yield* runCli(["logout", "--account", "alice"], { DROPBOX_SIGN_TOKEN_DIR: directory })
      expect(result.code).toBe(0)
      expect(result.stdout).toContain("Logged out account \"alice\"")
      const status = yield* runCli(["status"], { DROPBOX_SIGN_TOKEN_DIR: directory })
      expect(status.stdout).toContain("default")
      expect(status.stdout).not.toContain("alice")
    }).pipe(Effect.provide(TestLive)))

  it.scoped("an unknown account: exit 1, the store untouched", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      yield* seed(directory)
      const before = yield* snapshot(directory)
      const result = yield* runCli(["logout", "--account", "ghost"], { DROPBOX_SIGN_TOKEN_DIR: directory })
      expect(result.code).toBe(1)
      expectOneErrorLine(result.stderr, "No token is stored for account \"ghost\"")
      expect(yield* snapshot(directory)).toEqual(before)
    }).pipe(Effect.provide(TestLive)))
})

describe("encryption at rest", () => {
  const key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

  it.scoped("with DROPBOX_SIGN_TOKEN_ENCRYPTION_KEY the store is encrypted and every command reads it", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      const env = envFor(directory, { DROPBOX_SIGN_TOKEN_ENCRYPTION_KEY: key })
      const token = yield* seed(directory).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
      )
      const files = yield* snapshot(directory)
      expect(files).toHaveLength(1)
      expect(files[0]).toMatch(/^[0-9a-f]{64}\.token:enc:v1:/)
      for (const secret of secretsOf(token)) expect(files[0]).not.toContain(secret)

      const printed = yield* runCli(["token"], env)
      expect(printed).toEqual({ code: 0, stdout: `${Redacted.value(token.accessToken)}\n`, stderr: "" })
      const status = yield* runCli(["status"], env)
      expect(status.stdout).toMatch(/default\s+1h 0m\s+0s ago\s+active/)

      const noKey = yield* runCli(["token"], envFor(directory))
      expect(noKey.code).toBe(1)
      expectOneErrorLine(noKey.stderr, "no encryption key is configured")
      const badKey = yield* runCli(["token"], envFor(directory, { DROPBOX_SIGN_TOKEN_ENCRYPTION_KEY: "short" }))
      expect(badKey.code).toBe(1)
      expectOneErrorLine(badKey.stderr, "Invalid DROPBOX_SIGN_TOKEN_ENCRYPTION_KEY")
    }).pipe(Effect.provide(TestLive)))
})

describe("usage", () => {
  it.scoped("--help lists the commands; each command documents its variables", () =>
    Effect.gen(function*() {
      const root = yield* runCli(["--help"], {})
      expect(root.code).toBe(0)
      for (const name of ["authorize", "token", "refresh", "status", "account", "logout", "fake-server", "demo"]) {
        expect(root.stdout).toContain(name)
      }
      const token = yield* runCli(["token", "--help"], {})
      expect(token.code).toBe(0)
      expect(token.stdout).toContain("DROPBOX_SIGN_CLIENT_ID")
      expect(token.stdout).toContain("--store-dir")
    }).pipe(Effect.provide(TestLive)))

  it.scoped("an unknown command or flag is a usage error (exit 2)", () =>
    Effect.gen(function*() {
      const result = yield* runCli(["frobnicate"], {})
      expect(result.code).toBe(2)
      expect(result.stdout).toBe("")
      const flag = yield* runCli(["token", "--port", "1"], {})
      expect(flag.code).toBe(2)
      const account = yield* runCli(["token", "--account", ""], {})
      expect(account.code).toBe(2)
      expect(account.stderr).toContain("--account must be a name of 1 to 255 characters")
    }).pipe(Effect.provide(TestLive)))

  it.scoped("--verbose prints logs on stderr; without it there are none", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      yield* seed(directory)
      const quiet = yield* runCli(["refresh"], envFor(directory))
      expect(quiet.stderr).toBe("")
      const verbose = yield* runCli(["refresh", "--verbose"], envFor(directory))
      expect(verbose.code).toBe(0)
      expect(verbose.stderr).toContain("Configuration resolved")
      expect(verbose.stderr).not.toContain(clientSecret)
    }).pipe(Effect.provide(TestLive)))
})
