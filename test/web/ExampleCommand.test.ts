/**
 * `pnpm example:web` as a user runs it: nothing configured, from the TypeScript sources, printing the URL to open.
 */
import * as path from "node:path"

import { Command, Cookies, HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Ref, Stream } from "effect"

const root = path.resolve(import.meta.dirname, "..", "..")

describe("pnpm example:web", () => {
  it.live(
    "serves the example against the embedded fake, with its consent page, and prints the URL to open",
    () =>
      Effect.gen(function*() {
        // Only PATH and HOME: neither DROPBOX_SIGN_* nor DATABASE_URL of the developer's shell gets in.
        const child = yield* Command.make("pnpm", "--silent", "example:web").pipe(
          Command.workingDirectory(root),
          Command.env({ PATH: process.env["PATH"], HOME: process.env["HOME"], PORT: "0" }, { extendEnv: false }),
          Command.start
        )
        // Both outputs are drained for the child's whole life: a closed pipe would kill it at its next log line.
        const output = yield* Ref.make("")
        const ready = yield* Deferred.make<string>()
        yield* Stream.merge(child.stdout, child.stderr).pipe(
          Stream.decodeText(),
          Stream.runForEach((chunk) =>
            Effect.flatMap(Ref.updateAndGet(output, (all) => all + chunk), (all) =>
              /Ctrl-C to stop/.test(all) ? Deferred.succeed(ready, all) : Effect.void)
          ),
          Effect.forkScoped
        )
        // A child that exits before it is ready (a crash at start) ends the wait at once, with what it printed.
        const exited = Effect.flatMap(child.exitCode, (code) =>
          Effect.fail(new Error(`the example exited (${code})`)))
        const lines = yield* Effect.raceFirst(Deferred.await(ready), exited).pipe(
          Effect.timeout("150 seconds"),
          Effect.orElse(() =>
            Effect.flatMap(Ref.get(output), (all) => Effect.dieMessage(`the example printed:\n${all}`))
          )
        )
        const url = /open (http:\/\/127\.0\.0\.1:\d+)\//.exec(lines)?.[1]
        expect(url).toBeDefined()
        expect(lines).toMatch(/embedded fake at http:\/\/127\.0\.0\.1:\d+/)

        const client = (yield* HttpClient.HttpClient).pipe(HttpClient.filterStatusOk)
        const home = yield* client.get(`${url}/`)
        expect(yield* home.text).toContain("Connect Dropbox Sign")
        const session = home.cookies
        const connect = yield* HttpClient.HttpClient.pipe(
          Effect.flatMap((http) =>
            http.execute(
              HttpClientRequest.get(`${url}/dropbox-sign/connect`).pipe(
                HttpClientRequest.setHeader("cookie", Cookies.toCookieHeader(session))
              )
            )
          )
        )
        expect(connect.status).toBe(302)
        const consent = yield* client.get(connect.headers["location"]!)
        const page = yield* consent.text
        expect(page).toContain("Example web app")
        expect(page).toContain("value=\"allow\">Authorize</button>")
      }).pipe(Effect.scoped, Effect.provide([NodeContext.layer, NodeHttpClient.layerUndici])),
    { timeout: 180_000 }
  )
})
