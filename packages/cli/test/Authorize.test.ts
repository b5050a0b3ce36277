import { Browser } from "@dropbox-sign-effect/cli"
import { AccountId, TokenStore } from "@dropbox-sign-effect/oauth"
import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import { HttpClient } from "@effect/platform"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"

import type { Captured } from "./utils/harness.js"
import { capture, envFor, occupyPort, runCli, secretsOf, seed, snapshot, tempDir } from "./utils/harness.js"

// A real loopback fake and a real HTTP client: the callback server is a real socket too.
const TestLive = Layer.mergeAll(FakeDropboxSign.layerServer(), NodeHttpClient.layerUndici, NodeContext.layer)

const serverEnv = (directory: string) =>
  Effect.map(
    FakeDropboxSign.FakeDropboxSignServer,
    (server) => envFor(directory, { DROPBOX_SIGN_OAUTH_URL: server.oauthUrl, DROPBOX_SIGN_API_URL: server.apiUrl })
  )

/**
 * A browser whose user approves: it points the fake app's callback URL at the one the CLI printed (a real app has it
 * configured once), then follows the authorize URL through Dropbox Sign's redirect to the CLI's callback server.
 * `state` replaces the URL's state, as a forged or stale link would.
 */
const consentingBrowser = (captured: Captured, options: { readonly state?: string } = {}) =>
  Effect.gen(function*() {
    const fake = yield* FakeDropboxSign.FakeDropboxSign
    const http = HttpClient.followRedirects(yield* HttpClient.HttpClient, 5)
    const opened: Array<string> = []
    const browser: Browser.Service = {
      open: (url) =>
        Effect.gen(function*() {
          opened.push(url)
          const callbackUrl = /Listening for the callback on (\S+)/.exec(captured.stdout())?.[1]
          if (callbackUrl === undefined) return false
          yield* fake.updateApp(FakeDropboxSign.defaultApp.clientId, { callbackUrl })
          const target = new URL(url)
          if (options.state !== undefined) target.searchParams.set("state", options.state)
          const response = yield* http.get(target.href)
          return response.status < 500
        }).pipe(Effect.scoped, Effect.orElseSucceed(() => false))
    }
    return { browser, opened }
  })

const authorize = (args: ReadonlyArray<string>, directory: string, options: { readonly state?: string } = {}) =>
  Effect.gen(function*() {
    const captured = capture()
    const { browser, opened } = yield* consentingBrowser(captured, options)
    const env = yield* serverEnv(directory)
    const result = yield* runCli(["authorize", "--port", "0", ...args], env, captured).pipe(
      Effect.provideService(Browser.Browser, browser)
    )
    return { ...result, opened }
  })

const stored = (directory: string, account: AccountId.AccountId = AccountId.defaultAccount) =>
  Effect.flatMap(TokenStore.TokenStore, (store) => store.get(account)).pipe(
    Effect.provide(TokenStore.layerFileSystem(directory)),
    Effect.orDie
  )

describe("authorize", () => {
  it.live("opens the URL, receives the callback, stores the token and shows who is connected", () =>
    Effect.scoped(
      Effect.gen(function*() {
        const directory = yield* tempDir
        const result = yield* authorize(["--account", "alice", "--timeout", "10"], directory)
        expect(result.code).toBe(0)
        expect(result.opened).toHaveLength(1)
        expect(result.stdout).toContain(result.opened[0])
        expect(result.stdout).toMatch(/^ {2}http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?response_type=code&/m)
        expect(result.stdout).toContain("Connected account \"alice\" as jack@example.com")
        const entry = yield* stored(directory, AccountId.make("alice"))
        expect(Option.isSome(entry)).toBe(true)
        if (Option.isSome(entry)) {
          for (const secret of secretsOf(entry.value.token)) {
            expect(result.stdout + result.stderr).not.toContain(secret)
          }
        }
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const counters = yield* fake.counters
        expect(counters.consentsGranted).toBe(1)
        expect(counters.codesExchanged).toBe(1)
      }).pipe(Effect.provide(TestLive))
    ))

  it.live("a callback with the wrong state: clear error, exit 1, stored tokens untouched", () =>
    Effect.scoped(
      Effect.gen(function*() {
        const directory = yield* tempDir
        const env = yield* serverEnv(directory)
        yield* seed(directory, AccountId.defaultAccount, {
          oauthUrl: env["DROPBOX_SIGN_OAUTH_URL"],
          apiUrl: env["DROPBOX_SIGN_API_URL"]
        })
        const before = yield* snapshot(directory)
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const exchanges = (yield* fake.counters).tokenRequests
        const result = yield* authorize(["--timeout", "10"], directory, { state: "forged" })
        expect(result.code).toBe(1)
        expect(result.stderr).toMatch(/^error: The callback's state does not match .*; nothing was stored/m)
        expect(yield* snapshot(directory)).toEqual(before)
        // The code of a forged callback is never sent.
        expect((yield* fake.counters).tokenRequests).toBe(exchanges)
      }).pipe(Effect.provide(TestLive))
    ))

  it.live("a denied consent: clear error, exit 1, nothing stored", () =>
    Effect.scoped(
      Effect.gen(function*() {
        const directory = yield* tempDir
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        yield* fake.denyNextConsent
        const result = yield* authorize(["--timeout", "10"], directory)
        expect(result.code).toBe(1)
        expect(result.stderr).toContain("error: Authorization was denied (access_denied)")
        expect(yield* snapshot(directory)).toEqual([])
      }).pipe(Effect.provide(TestLive))
    ))

  it.live("no callback before --timeout: clear error, exit 1, stored tokens untouched", () =>
    Effect.scoped(
      Effect.gen(function*() {
        const directory = yield* tempDir
        const env = yield* serverEnv(directory)
        yield* seed(directory, AccountId.defaultAccount, {
          oauthUrl: env["DROPBOX_SIGN_OAUTH_URL"],
          apiUrl: env["DROPBOX_SIGN_API_URL"]
        })
        const before = yield* snapshot(directory)
        const result = yield* runCli(["authorize", "--port", "0", "--no-open", "--timeout", "1"], env).pipe(
          Effect.provide(Browser.layerNoop)
        )
        expect(result.code).toBe(1)
        expect(result.stderr).toContain("Waiting for the authorization callback")
        expect(result.stderr).toMatch(/^error: No authorization callback within 1s: .*--timeout/m)
        expect(yield* snapshot(directory)).toEqual(before)
      }).pipe(Effect.provide(TestLive))
    ))

  it.live("a port in use: clear error naming the port and the fix, exit 1", () =>
    Effect.scoped(
      Effect.gen(function*() {
        const directory = yield* tempDir
        const port = yield* occupyPort
        const env = yield* serverEnv(directory)
        const result = yield* runCli(["authorize", "--port", String(port), "--no-open"], env).pipe(
          Effect.provide(Browser.layerNoop)
        )
        expect(result.code).toBe(1)
        expect(result.stdout).toBe("")
        expect(result.stderr).toBe(
          `error: Port ${port} on 127.0.0.1 is already in use: stop the other process or pass --port with a free port\n`
        )
      }).pipe(Effect.provide(TestLive))
    ))

  it.live("missing configuration fails before listening", () =>
    Effect.scoped(
      Effect.gen(function*() {
        const directory = yield* tempDir
        const result = yield* runCli(["authorize", "--no-open"], { DROPBOX_SIGN_TOKEN_DIR: directory }).pipe(
          Effect.provide(Browser.layerNoop)
        )
        expect(result.code).toBe(1)
        expect(result.stdout).toBe("")
        expect(result.stderr).toBe("error: Missing DROPBOX_SIGN_CLIENT_ID: set it or pass --client-id\n")
      }).pipe(Effect.provide(TestLive))
    ))
})
