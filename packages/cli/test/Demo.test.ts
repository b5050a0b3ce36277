import { Browser } from "@dropbox-sign-effect/cli"
import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import { HttpClient } from "@effect/platform"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Layer, Redacted, Schedule } from "effect"

import { capture, clientSecret, freePort, occupyPort, runCli, tempDir } from "./utils/harness.js"

const TestLive = Layer.mergeAll(NodeHttpClient.layerUndici, NodeContext.layer, Browser.layerNoop)

/** Polls `read` until `pattern` matches it. */
const waitFor = (read: () => string, pattern: RegExp) =>
  Effect.suspend(() => {
    const match = pattern.exec(read())
    return match === null ? Effect.fail("not yet" as const) : Effect.succeed(match)
  }).pipe(
    Effect.retry(Schedule.spaced("50 millis").pipe(Schedule.upTo("20 seconds"))),
    Effect.orDieWith(() => new Error(`never printed ${pattern}: ${read()}`))
  )

describe("demo", () => {
  it.live("walks through the whole flow with no configuration and exits 0", () =>
    Effect.gen(function*() {
      const result = yield* runCli(["demo"], {})
      expect(result.stderr).toBe("")
      expect(result.code).toBe(0)
      const out = result.stdout
      for (
        const expected of [
          /^ 1\. The app sends the user to Dropbox Sign's authorize URL$/m,
          /→ http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?response_type=code&client_id=\w+&state=/,
          /✓ Dropbox Sign answered 302: redirect to http:\/\/127\.0\.0\.1:\d+\/callback\?code=…&state=…/,
          /✓ code and state received; the state matches/,
          /✓ access and refresh tokens issued; the access token expires in 4s/,
          /\.token \(mode 0600, written atomically\)/,
          /✓ connected as jack@example\.com/,
          /^ 7\. The token nears expiry$/m,
          /✓ 100 callers, 1 refresh request$/m,
          /✓ 1 grant revoked/,
          /✗ ReauthorizationRequiredError: Account "demo" must be authorized again/,
          /^Done in \d+(\.\d)?s\.$/m
        ]
      ) {
        expect(out).toMatch(expected)
      }
      expect(out).not.toContain(clientSecret)
      // No code in the narration: the redirect's query is elided.
      expect(out).not.toMatch(/code=[A-Za-z0-9_-]{8,}/)
    }).pipe(Effect.provide(TestLive)), 30_000)
})

describe("fake-server", () => {
  it.live(
    "serves until interrupted; authorize, token and status work against it",
    () =>
      Effect.scoped(
        Effect.gen(function*() {
          const directory = yield* tempDir
          const callbackPort = yield* freePort
          const server = capture()
          const fiber = yield* Effect.fork(runCli(
            [
              "fake-server",
              "--port",
              "0",
              "--callback-url",
              `http://127.0.0.1:${callbackPort}/callback`
            ],
            {},
            server
          ))
          const [, url] = yield* waitFor(server.stdout, /listening on (http:\/\/127\.0\.0\.1:\d+)\n/)
          const exports = Object.fromEntries(
            [...server.stdout().matchAll(/^ {2}export (\w+)=(\S+)$/gm)].map(([, name, value]) => [name, value])
          )
          expect(exports).toEqual({
            DROPBOX_SIGN_OAUTH_URL: url,
            DROPBOX_SIGN_API_URL: `${url}/v3`,
            DROPBOX_SIGN_CLIENT_ID: FakeDropboxSign.defaultApp.clientId,
            DROPBOX_SIGN_CLIENT_SECRET: Redacted.value(FakeDropboxSign.defaultApp.clientSecret)
          })
          const env = { ...exports, DROPBOX_SIGN_TOKEN_DIR: directory }

          // A browser that follows the authorize URL through the redirect to the callback.
          const http = HttpClient.followRedirects(yield* HttpClient.HttpClient, 5)
          const browser = Browser.Browser.of({
            open: (target) =>
              http.get(target).pipe(
                Effect.map((response) => response.status === 200),
                Effect.scoped,
                Effect.orElseSucceed(() => false)
              )
          })
          const authorized = yield* runCli(["authorize", "--port", String(callbackPort), "--timeout", "10"], env).pipe(
            Effect.provideService(Browser.Browser, browser)
          )
          expect(authorized.code).toBe(0)
          expect(authorized.stdout).toContain("Connected account \"default\" as jack@example.com")

          const token = yield* runCli(["token"], env)
          expect(token.code).toBe(0)
          expect(token.stdout).toMatch(/^[A-Za-z0-9_-]{20,}\n$/)
          const status = yield* runCli(["status"], env)
          expect(status.stdout).toMatch(/default\s+59m 5\ds\s+\d+(\.\d)?s ago\s+active/)

          yield* Fiber.interrupt(fiber)
          // The port is released.
          const after = yield* HttpClient.get(`${url}/v3/account`).pipe(
            Effect.scoped,
            Effect.timeout(Duration.seconds(2)),
            Effect.either
          )
          expect(after._tag).toBe("Left")
        }).pipe(Effect.provide(TestLive))
      ),
    30_000
  )

  it.live("a port in use: clear error, exit 1", () =>
    Effect.scoped(
      Effect.gen(function*() {
        const port = yield* occupyPort
        const result = yield* runCli(["fake-server", "--port", String(port)], {})
        expect(result.code).toBe(1)
        expect(result.stderr).toBe(
          `error: Port ${port} on 127.0.0.1 is already in use: stop the other process or pass --port with a free port\n`
        )
      }).pipe(Effect.provide(TestLive))
    ))
})
