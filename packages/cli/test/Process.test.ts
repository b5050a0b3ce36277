/**
 * The CLI as users run it: real child processes, real sockets, real time. Each spawn starts Node and transpiles the
 * sources, so these tests are few and run their children concurrently where they can.
 */
import { AccountId, TokenStore } from "@dropbox-sign-effect/oauth"
import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import { HttpClient } from "@effect/platform"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, Redacted } from "effect"

import * as Child from "./utils/child.js"
import { envFor, seed, tempDir } from "./utils/harness.js"

const TestLive = Layer.mergeAll(FakeDropboxSign.layerServer(), NodeHttpClient.layerUndici, NodeContext.layer)

/** The fake's credentials and URLs, a token directory, and a home directory that is not the developer's. */
const childEnv = (directory: string) =>
  Effect.map(FakeDropboxSign.FakeDropboxSignServer, (server) =>
    envFor(directory, {
      DROPBOX_SIGN_OAUTH_URL: server.oauthUrl,
      DROPBOX_SIGN_API_URL: server.apiUrl,
      HOME: directory
    }))

describe("as a child process", () => {
  it.live("demo exits 0 after the narrated flow", () =>
    Effect.scoped(
      Effect.gen(function*() {
        const home = yield* tempDir
        const result = yield* Child.run(["demo"], { HOME: home })
        expect(result.stderr).toBe("")
        expect(result.code).toBe(0)
        expect(result.stdout).toContain("✓ connected as jack@example.com")
        expect(result.stdout).toMatch(/✓ 100 callers, 1 refresh request$/m)
        expect(result.stdout).toContain("✗ ReauthorizationRequiredError: Account \"demo\" must be authorized again")
      }).pipe(Effect.provide(NodeContext.layer))
    ), 60_000)

  it.live(
    "token prints only the token; bad input is one line on stderr and exit 1",
    () =>
      Effect.scoped(
        Effect.gen(function*() {
          const directory = yield* tempDir
          const env = yield* childEnv(directory)
          const token = yield* seed(directory, AccountId.defaultAccount, {
            oauthUrl: env["DROPBOX_SIGN_OAUTH_URL"],
            apiUrl: env["DROPBOX_SIGN_API_URL"]
          })
          const [ok, unknown] = yield* Effect.all([
            Child.run(["token"], env),
            Child.run(["token", "--account", "nobody"], env)
          ], { concurrency: "unbounded" })
          expect(ok).toEqual({ code: 0, stdout: `${Redacted.value(token.accessToken)}\n`, stderr: "" })
          expect(unknown).toEqual({
            code: 1,
            stdout: "",
            stderr:
              "error: No token is stored for account \"nobody\": run `dropbox-sign-oauth authorize --account nobody` first\n"
          })
        }).pipe(Effect.provide(TestLive))
      ),
    60_000
  )

  it.live(
    "authorize completes when the printed URL is followed through the consent redirect",
    () =>
      Effect.scoped(
        Effect.gen(function*() {
          const directory = yield* tempDir
          const env = yield* childEnv(directory)
          const child = yield* Child.start(["authorize", "--port", "0", "--no-open", "--timeout", "30"], env)
          const [, url] = yield* child.waitForStdout(/^ {2}(http:\/\/\S+\/oauth\/authorize\?\S+)$/m)
          const [, callbackUrl] = yield* child.waitForStdout(/Listening for the callback on (\S+) /)
          // The API app's callback URL is configured once in a real app; the fake's is set to where the CLI listens.
          const fake = yield* FakeDropboxSign.FakeDropboxSign
          yield* fake.updateApp(FakeDropboxSign.defaultApp.clientId, { callbackUrl })
          const page = yield* HttpClient.followRedirects(yield* HttpClient.HttpClient, 5).get(url).pipe(
            Effect.flatMap((response) => Effect.map(response.text, (text) => ({ status: response.status, text }))),
            Effect.scoped
          )
          expect(page.status).toBe(200)
          expect(page.text).toContain("Authorization received")
          const result = yield* child.result
          expect(result.code).toBe(0)
          expect(result.stdout).toContain("✓ Connected account \"default\" as jack@example.com")
          const stored = yield* Effect.flatMap(TokenStore.TokenStore, (store) => store.get(AccountId.defaultAccount))
            .pipe(
              Effect.provide(TokenStore.layerFileSystem(directory))
            )
          expect(Option.map(stored, (entry) => entry.status)).toEqual(Option.some("active"))
          if (Option.isSome(stored)) {
            expect(result.stdout + result.stderr).not.toContain(Redacted.value(stored.value.token.accessToken))
          }
        }).pipe(Effect.provide(TestLive))
      ),
    60_000
  )

  it.live("fake-server serves until SIGINT, then says so and exits 130", () =>
    Effect.scoped(
      Effect.gen(function*() {
        const home = yield* tempDir
        const child = yield* Child.start(["fake-server", "--port", "0"], { HOME: home })
        const [, url] = yield* child.waitForStdout(/listening on (http:\/\/127\.0\.0\.1:\d+)\n/)
        yield* child.waitForStdout(/Press Ctrl-C to stop\./)
        const response = yield* HttpClient.get(`${url}/v3/account`).pipe(
          Effect.flatMap((r) => Effect.map(r.json, (body) => ({ status: r.status, body }))),
          Effect.scoped
        )
        expect(response.status).toBe(401)
        expect(response.body).toMatchObject({ error: { error_name: "unauthorized" } })
        yield* child.kill("SIGINT")
        const result = yield* child.result
        expect(result.code).toBe(130)
        expect(result.stderr).toBe("dropbox-sign-oauth fake-server: cancelled by SIGINT\n")
        expect(result.stdout).toContain(`export DROPBOX_SIGN_CLIENT_ID=${FakeDropboxSign.defaultApp.clientId}`)
      }).pipe(Effect.provide(Layer.merge(NodeHttpClient.layerUndici, NodeContext.layer)))
    ), 60_000)

  it.live("SIGTERM during authorize cancels it: one line, exit 143, the callback port released", () =>
    Effect.scoped(
      Effect.gen(function*() {
        const directory = yield* tempDir
        const env = yield* childEnv(directory)
        const child = yield* Child.start(["authorize", "--port", "0", "--no-open", "--timeout", "60"], env)
        const [, callbackUrl] = yield* child.waitForStdout(/Listening for the callback on (\S+) /)
        yield* child.kill("SIGTERM")
        const result = yield* child.result
        expect(result.code).toBe(143)
        expect(result.stderr.trimEnd().split("\n").at(-1)).toBe("dropbox-sign-oauth authorize: cancelled by SIGTERM")
        expect(result.stderr.match(/cancelled/g)).toHaveLength(1)
        const after = yield* HttpClient.get(callbackUrl!).pipe(Effect.scoped, Effect.either)
        expect(after._tag).toBe("Left")
      }).pipe(Effect.provide(TestLive))
    ), 60_000)

  it.live("--help through a pipe has no ANSI escapes, NO_COLOR unset", () =>
    Effect.gen(function*() {
      const result = yield* Child.run(["authorize", "--help"], { NO_COLOR: "" })
      expect(result.code).toBe(0)
      expect(result.stdout).toContain("Default: 8765.")
      expect(result.stdout).not.toContain("\u001b[")
    }).pipe(Effect.provide(NodeContext.layer)), 60_000)
})
