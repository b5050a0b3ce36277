/**
 * `OAuthApi`'s behaviour, the same tests over every transport (`MockHttp.transports`): the generic `HttpClient` path
 * in memory and on a socket, and the lean undici path. What only one transport does is tested at the end.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"

import { OAuthApi, OAuthConfig, OAuthSchema } from "@dropbox-sign-effect/oauth"
import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, Exit, Fiber, Layer, Metric, Redacted, Schedule, TestClock, Tracer } from "effect"
import * as Undici from "undici"

import { advanceUntilDone, failureOf, flushIo, runWithClock, sleepingUntil, waitUntil } from "./utils/clock.js"
import { fixtures, tokenResponseJson } from "./utils/fixtures.js"
import * as MockHttp from "./utils/MockHttp.js"

const packageVersion: unknown = JSON.parse(
  Fs.readFileSync(Path.join(import.meta.dirname, "..", "package.json"), "utf8")
).version

const generateRequest = new OAuthSchema.OAuthTokenGenerateRequest({
  clientId: fixtures.clientId,
  clientSecret: Redacted.make(fixtures.clientSecret),
  code: Redacted.make(fixtures.code),
  state: fixtures.state
})

const refreshRequest = (withCredentials = true) =>
  new OAuthSchema.OAuthTokenRefreshRequest(
    withCredentials ?
      {
        refreshToken: Redacted.make(fixtures.refreshToken),
        clientId: fixtures.clientId,
        clientSecret: Redacted.make(fixtures.clientSecret)
      } :
      { refreshToken: Redacted.make(fixtures.refreshToken) }
  )

const ok = MockHttp.json(200, tokenResponseJson)

/** The headers a transport adds on its own (framing, connection management), which the tests do not pin down. */
const transportHeaders: ReadonlySet<string> = new Set(["host", "content-length", "connection", "transfer-encoding"])

const ourHeaders = (headers: Readonly<Record<string, string>>) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !transportHeaders.has(name)))

const expectedHeaders = {
  accept: "application/json",
  "content-type": "application/json",
  "user-agent": `dropbox-sign-effect/${String(packageVersion)}`
}

/** Exactly what the official SDK sends for the fixture values (`test/e2e/official-sdk.test.ts` compares live). */
const generateBody = `{"client_id":"${fixtures.clientId}","client_secret":"${fixtures.clientSecret}",` +
  `"code":"${fixtures.code}","grant_type":"authorization_code","state":"${fixtures.state}"}`
const refreshBody = `{"grant_type":"refresh_token","refresh_token":"${fixtures.refreshToken}",` +
  `"client_id":"${fixtures.clientId}","client_secret":"${fixtures.clientSecret}"}`

const failure = <A, E extends { readonly _tag: string }>(effect: Effect.Effect<A, E>) => Effect.flip(effect)

for (const transport of MockHttp.transports) {
  const setup = (replies: ReadonlyArray<MockHttp.Reply>, options?: Parameters<typeof MockHttp.api>[2]) =>
    MockHttp.api(transport, replies, options)

  describe(`OAuthApi over ${transport}`, () => {
    describe("the wire", () => {
      it.scoped("oauthTokenGenerate posts the SDK's exact bytes to /oauth/token, with our headers only", () =>
        Effect.gen(function*() {
          const { api, baseUrl, requests } = yield* setup([ok])
          yield* api.oauthTokenGenerate(generateRequest)
          const [request] = yield* requests
          expect(request.method).toBe("POST")
          expect(request.url).toBe(`${baseUrl}/oauth/token`)
          expect(request.path).toBe("/oauth/token")
          expect(request.body).toBe(generateBody)
          // No Authorization, no trace context sent to a third party: exactly these three.
          expect(ourHeaders(request.headers)).toStrictEqual(expectedHeaders)
        }))

      it.scoped("oauthTokenRefresh posts to /oauth/token?refresh (a bare flag) with the client credentials", () =>
        Effect.gen(function*() {
          const { api, requests } = yield* setup([ok])
          yield* api.oauthTokenRefresh(refreshRequest())
          const [request] = yield* requests
          expect(request.method).toBe("POST")
          expect(request.path).toBe("/oauth/token?refresh")
          expect(request.body).toBe(refreshBody)
          expect(ourHeaders(request.headers)).toStrictEqual(expectedHeaders)
        }))

      it.scoped("oauthTokenRefresh omits the client credentials when the request has none", () =>
        Effect.gen(function*() {
          const { api, requests } = yield* setup([ok])
          yield* api.oauthTokenRefresh(refreshRequest(false))
          const [request] = yield* requests
          expect(request.body).toBe(`{"grant_type":"refresh_token","refresh_token":"${fixtures.refreshToken}"}`)
        }))

      it.scoped("uses the configured base URL, path included", () =>
        Effect.gen(function*() {
          const { api, baseUrl, requests } = yield* setup([ok], { basePath: "/base" })
          yield* api.oauthTokenRefresh(refreshRequest())
          const [request] = yield* requests
          expect(request.url).toBe(`${baseUrl}/oauth/token?refresh`)
          expect(request.path).toBe("/base/oauth/token?refresh")
        }))

      it.scoped("the User-Agent is configurable", () =>
        Effect.gen(function*() {
          const { api, requests } = yield* setup([ok], { userAgent: "my-app/2.0 (+https://my.app)" })
          yield* api.oauthTokenRefresh(refreshRequest())
          const [request] = yield* requests
          expect(ourHeaders(request.headers)).toStrictEqual({
            ...expectedHeaders,
            "user-agent": "my-app/2.0 (+https://my.app)"
          })
        }))
    })

    describe("decoding", () => {
      it.scoped("decodes the fixture response", () =>
        Effect.gen(function*() {
          const { api } = yield* setup([ok])
          const response = yield* api.oauthTokenGenerate(generateRequest)
          expect(Redacted.value(response.accessToken)).toBe(fixtures.accessToken)
          expect(response.refreshToken && Redacted.value(response.refreshToken)).toBe(fixtures.refreshToken)
          expect(response.tokenType).toBe("Bearer")
          expect(response.expiresIn).toBe(86400)
          expect(response.state).toBe(fixtures.state)
        }))

      it.scoped("accepts state: null, unknown extra fields and a lower-case bearer type", () =>
        Effect.gen(function*() {
          const { api } = yield* setup([
            MockHttp.json(200, {
              ...tokenResponseJson,
              token_type: "bearer",
              state: null,
              scope: "basic_account_info",
              extra: { a: 1 }
            })
          ])
          const response = yield* api.oauthTokenRefresh(refreshRequest())
          expect(response.state).toBeNull()
          expect(response.tokenType).toBe("bearer")
          expect(response.expiresIn).toBe(86400)
        }))

      it.scoped("accepts a response without refresh_token (the previous one stays valid)", () =>
        Effect.gen(function*() {
          const { refresh_token: _, ...withoutRefresh } = tokenResponseJson
          const { api } = yield* setup([MockHttp.json(200, withoutRefresh)])
          const response = yield* api.oauthTokenRefresh(refreshRequest())
          expect(response.refreshToken).toBeUndefined()
        }))

      it.scoped("accepts a lifetime of exactly the minimum, and a lower minimum when configured", () =>
        Effect.gen(function*() {
          const atMinimum = yield* setup([MockHttp.json(200, { ...tokenResponseJson, expires_in: 60 })])
          expect((yield* atMinimum.api.oauthTokenRefresh(refreshRequest())).expiresIn).toBe(60)
          const lowered = yield* setup([MockHttp.json(200, { ...tokenResponseJson, expires_in: 4 })], {
            minTokenLifetime: "4 seconds"
          })
          expect((yield* lowered.api.oauthTokenRefresh(refreshRequest())).expiresIn).toBe(4)
        }))

      const { access_token: _omitted, ...withoutAccessToken } = tokenResponseJson
      const token = (fields: Record<string, unknown>) => MockHttp.json(200, { ...tokenResponseJson, ...fields })
      const undecodable: ReadonlyArray<readonly [string, MockHttp.Reply, string]> = [
        ["a missing access_token", MockHttp.json(200, withoutAccessToken), "access_token is missing"],
        ["an empty access_token", token({ access_token: "" }), "access_token is invalid"],
        ["an access_token with CR/LF", token({ access_token: "abc\r\nX-Injected: 1" }), "access_token is invalid"],
        ["an access_token with NUL", token({ access_token: "abc\u0000def" }), "access_token is invalid"],
        ["an access_token with a space", token({ access_token: "abc def" }), "access_token is invalid"],
        ["an access_token with a tab", token({ access_token: "abc\tdef" }), "access_token is invalid"],
        ["a refresh_token with whitespace", token({ refresh_token: "abc def\n" }), "refresh_token is invalid"],
        ["a refresh_token with DEL", token({ refresh_token: "abc\u007f" }), "refresh_token is invalid"],
        ["a token_type other than bearer", token({ token_type: "mac" }), "token_type is invalid"],
        ["an empty token_type", token({ token_type: "" }), "token_type is invalid"],
        ["a non-numeric expires_in", token({ expires_in: "86400" }), "expires_in is invalid"],
        ["a negative expires_in", token({ expires_in: -5 }), "expires_in is invalid"],
        ["a zero expires_in", token({ expires_in: 0 }), "expires_in is invalid"],
        ["a fractional expires_in", token({ expires_in: 0.001 }), "expires_in is invalid"],
        ["an expires_in beyond a safe integer", token({ expires_in: 1e300 }), "expires_in is invalid"],
        [
          "an expires_in below the minimum lifetime",
          token({ expires_in: 59 }),
          "expires_in is below the minimum token lifetime of 60 seconds"
        ],
        [
          "an HTML body",
          MockHttp.raw(200, "<html><body>Oops</body></html>", { "content-type": "text/html" }),
          "the body is not valid JSON"
        ],
        [
          "a truncated body",
          MockHttp.raw(200, JSON.stringify(tokenResponseJson).slice(0, 40)),
          "the body is not valid JSON"
        ],
        ["an empty body", MockHttp.raw(200, ""), "the body is empty"],
        ["a JSON array", MockHttp.json(200, [1, 2]), "the body is invalid"]
      ]
      for (const [name, reply, description] of undecodable) {
        it.scoped(`${name} fails with ResponseDecodeError`, () =>
          Effect.gen(function*() {
            const { api, requests } = yield* setup([reply])
            const error = yield* failure(api.oauthTokenGenerate(generateRequest))
            expect(error._tag).toBe("ResponseDecodeError")
            if (error._tag !== "ResponseDecodeError") return
            expect(error.description).toBe(description)
            expect(error.message).not.toContain(fixtures.accessToken)
            expect((yield* requests).length).toBe(1)
          }))
      }
    })

    describe("bounded answers", () => {
      it.scoped("a 2XX body over the limit fails with ResponseDecodeError", () =>
        Effect.gen(function*() {
          const padded = JSON.stringify({ ...tokenResponseJson, padding: "x".repeat(2000) })
          const { api } = yield* setup([MockHttp.raw(200, padded)], { maxResponseBytes: 1024 })
          const error = yield* failure(api.oauthTokenRefresh(refreshRequest()))
          expect(error._tag).toBe("ResponseDecodeError")
          if (error._tag !== "ResponseDecodeError") return
          expect(error.description).toBe("the body is larger than the 1024-byte limit")
          expect(Redacted.value(error.body).length).toBe(1024)
        }))

      it.scoped("a body of exactly the limit is read whole", () =>
        Effect.gen(function*() {
          const unpadded = JSON.stringify({ ...tokenResponseJson, padding: "" })
          const exact = JSON.stringify({ ...tokenResponseJson, padding: "x".repeat(1024 - unpadded.length) })
          const { api } = yield* setup([MockHttp.raw(200, exact)], { maxResponseBytes: 1024 })
          expect(exact.length).toBe(1024)
          expect((yield* api.oauthTokenRefresh(refreshRequest())).expiresIn).toBe(86400)
        }))

      it.scoped("an endless 2XX body is abandoned at the 64 KiB limit", () =>
        Effect.gen(function*() {
          const { api, counters } = yield* setup([MockHttp.endless])
          const error = yield* failure(api.oauthTokenRefresh(refreshRequest()))
          expect(error._tag).toBe("ResponseDecodeError")
          if (error._tag !== "ResponseDecodeError") return
          expect(error.description).toBe("the body is larger than the 65536-byte limit")
          yield* waitUntil(Effect.map(counters, (c) => c.abandoned === 1), "the server to see the client give up")
          // What the server could push into socket buffers before it saw the connection close; not 80 MB.
          expect((yield* counters).endlessBytes).toBeLessThan(8 * 2 ** 20)
        }))

      it.scoped("an oversized 5XX is still a ServerError, retried like any gateway error", () =>
        Effect.gen(function*() {
          const { api, requests } = yield* setup([MockHttp.raw(503, "<html>".padEnd(200_000, "x")), ok])
          const exit = yield* runWithClock(api.oauthTokenRefresh(refreshRequest()))
          expect(Exit.isSuccess(exit)).toBe(true)
          expect((yield* requests).length).toBe(2)
        }))

      it.scoped("an oversized 4XX is an OAuthApiError with the status", () =>
        Effect.gen(function*() {
          const { api } = yield* setup([MockHttp.raw(400, "x".repeat(100_000))])
          const error = yield* failure(api.oauthTokenRefresh(refreshRequest()))
          expect(error._tag).toBe("OAuthApiError")
          if (error._tag !== "OAuthApiError") return
          expect(error.status).toBe(400)
          expect(error.errorName).toBe("http_400")
          expect(Redacted.value(error.body).length).toBe(65_536)
        }))
    })

    describe("errors and retries", () => {
      it.scoped("the Dropbox Sign error shape gives OAuthApiError with status, name, message and path", () =>
        Effect.gen(function*() {
          const { api } = yield* setup([
            MockHttp.json(400, { error: { error_msg: "Invalid code", error_name: "bad_request", error_path: "code" } })
          ])
          const error = yield* failure(api.oauthTokenGenerate(generateRequest))
          expect(error).toMatchObject({
            _tag: "OAuthApiError",
            status: 400,
            errorName: "bad_request",
            errorMsg: "Invalid code",
            errorPath: "code"
          })
        }))

      it.scoped("the RFC 6749 error shape gives OAuthApiError too, terminal for invalid_grant", () =>
        Effect.gen(function*() {
          const { api } = yield* setup([
            MockHttp.json(400, { error: "invalid_grant", error_description: "The refresh token is invalid" })
          ])
          const error = yield* failure(api.oauthTokenRefresh(refreshRequest()))
          expect(error._tag).toBe("OAuthApiError")
          if (error._tag !== "OAuthApiError") return
          expect(error).toMatchObject({
            status: 400,
            errorName: "invalid_grant",
            errorMsg: "The refresh token is invalid"
          })
          expect(error.isTerminal).toBe(true)
        }))

      it.scoped("credential errors are not terminal (re-authorization cannot fix them)", () =>
        Effect.gen(function*() {
          const { api } = yield* setup([
            MockHttp.json(401, {
              error: { error_msg: "Bad secret", error_name: "unauthorized", error_path: "client_secret" }
            })
          ])
          const error = yield* failure(api.oauthTokenRefresh(refreshRequest()))
          expect(error._tag).toBe("OAuthApiError")
          if (error._tag !== "OAuthApiError") return
          expect(error.errorName).toBe("unauthorized")
          expect(error.isTerminal).toBe(false)
        }))

      it.scoped("an error message echoing a secret that was sent is scrubbed", () =>
        Effect.gen(function*() {
          const { api } = yield* setup([
            MockHttp.json(400, { error: { error_msg: `bad code ${fixtures.code}`, error_name: "bad_request" } })
          ])
          const error = yield* failure(api.oauthTokenGenerate(generateRequest))
          expect(error._tag).toBe("OAuthApiError")
          if (error._tag !== "OAuthApiError") return
          expect(error.errorMsg).toBe("bad code <redacted>")
        }))

      it.scoped("an unrecognised 4XX body still gives OAuthApiError, keeping the body redacted", () =>
        Effect.gen(function*() {
          const { api } = yield* setup([MockHttp.raw(403, "<html>Forbidden</html>")])
          const error = yield* failure(api.oauthTokenRefresh(refreshRequest()))
          expect(error._tag).toBe("OAuthApiError")
          if (error._tag !== "OAuthApiError") return
          expect(error).toMatchObject({ status: 403, errorName: "http_403" })
          expect(Redacted.value(error.body)).toBe("<html>Forbidden</html>")
        }))

      it.scoped("a redirect is not followed and surfaces as OAuthApiError", () =>
        Effect.gen(function*() {
          const { api, baseUrl, requests } = yield* setup([
            MockHttp.raw(307, "", { location: "/elsewhere/oauth/token" }),
            ok
          ])
          const error = yield* failure(api.oauthTokenRefresh(refreshRequest()))
          expect(error).toMatchObject({ _tag: "OAuthApiError", status: 307, errorName: "unexpected_redirect" })
          expect((yield* requests).map((r) => r.url)).toStrictEqual([`${baseUrl}/oauth/token?refresh`])
        }))

      it.scoped("502/503/504 are retried with backoff, then ServerError", () =>
        Effect.gen(function*() {
          const { api, requests } = yield* setup([MockHttp.raw(503, "unavailable")])
          const start = yield* TestClock.currentTimeMillis
          const exit = yield* runWithClock(api.oauthTokenRefresh(refreshRequest()))
          expect(failureOf(exit)).toMatchObject({ _tag: "ServerError", status: 503 })
          // The default schedule: 5 attempts, and the exponential delays (jittered by 0.8–1.2) between them.
          expect((yield* requests).length).toBe(5)
          const elapsed = (yield* TestClock.currentTimeMillis) - start
          expect(elapsed).toBeGreaterThanOrEqual(0.8 * (250 + 500 + 1000 + 2000))
        }))

      it.scoped("a transient 5xx followed by success succeeds", () =>
        Effect.gen(function*() {
          const { api, requests } = yield* setup([MockHttp.raw(502, ""), MockHttp.raw(504, ""), ok])
          const exit = yield* runWithClock(api.oauthTokenGenerate(generateRequest))
          expect(Exit.isSuccess(exit)).toBe(true)
          expect((yield* requests).length).toBe(3)
        }))

      it.scoped("a 500 is outcome-unknown: the code is sent once, ServerError at once", () =>
        Effect.gen(function*() {
          const { api, requests } = yield* setup([MockHttp.raw(500, "boom"), ok])
          const error = yield* failure(api.oauthTokenGenerate(generateRequest))
          expect(error).toMatchObject({ _tag: "ServerError", status: 500 })
          expect((yield* requests).length).toBe(1)
        }))

      it.scoped("429 with Retry-After waits the advertised time before retrying, then RateLimitedError", () =>
        Effect.gen(function*() {
          const limited = MockHttp.json(429, { error: { error_msg: "Rate limit", error_name: "exceeded_rate" } }, {
            "retry-after": "20",
            "x-ratelimit-limit": "100",
            "x-ratelimit-remaining": "0"
          })
          const { api, requests } = yield* setup([limited], { retrySchedule: Schedule.recurs(1) })
          const start = yield* TestClock.currentTimeMillis
          const fiber = yield* Effect.fork(api.oauthTokenRefresh(refreshRequest()))
          yield* waitUntil(sleepingUntil(start + 20_000), "the retry to wait for Retry-After")
          yield* TestClock.adjust("19 seconds")
          yield* flushIo
          expect((yield* requests).length).toBe(1)
          yield* TestClock.adjust("1 second")
          const exit = yield* advanceUntilDone(fiber)
          expect((yield* requests).length).toBe(2)
          const error = failureOf(exit)
          expect(error._tag).toBe("RateLimitedError")
          if (error._tag !== "RateLimitedError") return
          expect(error).toMatchObject({ limit: 100, remaining: 0 })
          expect(Duration.toSeconds(error.retryAfter)).toBe(20)
        }))

      it.scoped("429 with X-Ratelimit-Reset waits until the reset instant", () =>
        Effect.gen(function*() {
          yield* TestClock.setTime(1_700_000_000_000)
          const limited = MockHttp.json(429, { error: { error_msg: "Rate limit", error_name: "exceeded_rate" } }, {
            "X-Ratelimit-Reset": String(1_700_000_000 + 45)
          })
          const { api, requests } = yield* setup([limited, ok])
          const fiber = yield* Effect.fork(api.oauthTokenGenerate(generateRequest))
          yield* waitUntil(sleepingUntil(1_700_000_045_000), "the retry to wait for the reset instant")
          yield* TestClock.adjust("44 seconds")
          yield* flushIo
          expect((yield* requests).length).toBe(1)
          const exit = yield* advanceUntilDone(fiber, "1 second")
          expect(Exit.isSuccess(exit)).toBe(true)
          expect((yield* requests).length).toBe(2)
        }))

      it.scoped("a 429 asking for longer than maxRateLimitWait fails at once", () =>
        Effect.gen(function*() {
          const { api, requests } = yield* setup([MockHttp.json(429, {}, { "retry-after": "3600" })])
          const error = yield* failure(api.oauthTokenRefresh(refreshRequest()))
          expect(error._tag).toBe("RateLimitedError")
          expect((yield* requests).length).toBe(1)
        }))

      it.scoped("a refused connection (never sent) is retried", () =>
        Effect.gen(function*() {
          const { api, requests } = yield* setup([MockHttp.refused, ok])
          const exit = yield* runWithClock(api.oauthTokenGenerate(generateRequest))
          expect(Exit.isSuccess(exit)).toBe(true)
          // The refused attempt never reached the server.
          expect((yield* requests).length).toBe(1)
        }))

      it.scoped("a refused connection that persists ends in TransportError NotSent", () =>
        Effect.gen(function*() {
          const { api, requests } = yield* setup([MockHttp.refused])
          const exit = yield* runWithClock(api.oauthTokenRefresh(refreshRequest()))
          expect(failureOf(exit)).toMatchObject({
            _tag: "TransportError",
            outcome: "NotSent",
            reason: "ConnectionRefused",
            code: "ECONNREFUSED"
          })
          expect((yield* requests).length).toBe(0)
        }))

      it.scoped("a reset after sending gives TransportError Unknown, and the code is sent exactly once", () =>
        Effect.gen(function*() {
          const { api, requests } = yield* setup([MockHttp.reset, ok])
          const error = yield* failure(api.oauthTokenGenerate(generateRequest))
          expect(error).toMatchObject({ _tag: "TransportError", outcome: "Unknown", reason: "ConnectionReset" })
          expect((yield* requests).length).toBe(1)
        }))

      it.live("a hang ends in TransportError Unknown Timeout after the timeout; the request is abandoned", () =>
        Effect.scoped(Effect.gen(function*() {
          const { api, counters, requests } = yield* setup([MockHttp.hang, ok], { requestTimeout: "200 millis" })
          const started = performance.now()
          const error = yield* failure(api.oauthTokenGenerate(generateRequest))
          const elapsed = performance.now() - started
          expect(error).toMatchObject({ _tag: "TransportError", outcome: "Unknown", reason: "Timeout" })
          // Timers fire on the event loop's clock, which may lag `performance.now` by up to a millisecond.
          expect(elapsed).toBeGreaterThanOrEqual(199)
          expect((yield* requests).length).toBe(1)
          yield* waitUntil(Effect.map(counters, (c) => c.abandoned === 1), "the server to see the request abandoned")
        })))

      it.scoped("interrupting a request aborts it", () =>
        Effect.gen(function*() {
          const { api, counters, requests } = yield* setup([MockHttp.hang])
          const fiber = yield* Effect.fork(api.oauthTokenRefresh(refreshRequest()))
          yield* waitUntil(Effect.map(requests, (all) => all.length === 1), "the request to arrive")
          yield* Fiber.interrupt(fiber)
          yield* waitUntil(Effect.map(counters, (c) => c.abandoned === 1), "the server to see the request abandoned")
        }))

      it.scoped("the retry schedule is replaceable", () =>
        Effect.gen(function*() {
          const { api, requests } = yield* setup([MockHttp.raw(503, "")], { retrySchedule: OAuthConfig.noRetries })
          const error = yield* failure(api.oauthTokenRefresh(refreshRequest()))
          expect(error._tag).toBe("ServerError")
          expect((yield* requests).length).toBe(1)
        }))
    })

    describe("observability", () => {
      it.scoped("every attempt is counted by operation and outcome; successes are timed", () =>
        Effect.gen(function*() {
          const counter = (outcome: string) =>
            Metric.value(OAuthApi.requestsTotal.pipe(
              Metric.tagged("operation", "oauthTokenRefresh"),
              Metric.tagged("outcome", outcome)
            ))
          const timer = Metric.value(OAuthApi.requestDuration.pipe(Metric.tagged("operation", "oauthTokenRefresh")))
          const before = { ok: (yield* counter("ok")).count, server: (yield* counter("ServerError")).count }
          const timedBefore = (yield* timer).count
          const { api } = yield* setup([MockHttp.raw(502, ""), ok])
          const exit = yield* runWithClock(api.oauthTokenRefresh(refreshRequest()))
          expect(Exit.isSuccess(exit)).toBe(true)
          expect((yield* counter("ok")).count - before.ok).toBe(1)
          expect((yield* counter("ServerError")).count - before.server).toBe(1)
          expect((yield* timer).count - timedBefore).toBe(1)
        }))

      it.scoped("with a tracer installed, each operation is one client span with safe attributes", () =>
        Effect.gen(function*() {
          const spans: Array<Tracer.Span> = []
          const native = yield* Effect.tracer
          const recording = Tracer.make({
            span: (name, parent, context, links, startTime, kind, options) => {
              const span = native.span(name, parent, context, links, startTime, kind, options)
              spans.push(span)
              return span
            },
            context: (f, fiber) => native.context(f, fiber)
          })
          const { api, requests } = yield* setup([ok])
          yield* api.oauthTokenRefresh(refreshRequest()).pipe(Effect.withTracer(recording))
          const ours = spans.filter((span) => span.name.startsWith("OAuthApi."))
          expect(ours.map((span) => [span.name, span.kind])).toStrictEqual([["OAuthApi.oauthTokenRefresh", "client"]])
          expect(Object.fromEntries(ours[0].attributes)).toStrictEqual({
            "oauth.client_id": fixtures.clientId,
            "url.full": expect.stringMatching(/\/oauth\/token\?refresh$/),
            "oauth.grant_type": "refresh_token",
            "oauth.client_credentials": true
          })
          expect(ours[0].status._tag).toBe("Ended")
          // Trace context is never propagated to the authorization server.
          const [request] = yield* requests
          expect(ourHeaders(request.headers)).toStrictEqual(expectedHeaders)
        }))
    })
  })
}

describe("OAuthApi over a generic HttpClient only", () => {
  it.scoped("the per-attempt timeout follows Clock: TestClock drives it", () =>
    Effect.gen(function*() {
      const { api, requests } = yield* MockHttp.api("HttpClient (in memory)", [MockHttp.hang, ok], {
        requestTimeout: "5 seconds"
      })
      const fiber = yield* Effect.fork(api.oauthTokenGenerate(generateRequest))
      yield* flushIo
      yield* TestClock.adjust("4999 millis")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 millis")
      const error = failureOf(yield* Fiber.await(fiber))
      expect(error).toMatchObject({ _tag: "TransportError", outcome: "Unknown", reason: "Timeout" })
      expect((yield* requests).length).toBe(1)
    }))
})

describe("OAuthApi over undici only", () => {
  it.live("a timeout while still connecting is NotSent, and the request is never written", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* MockHttp.serve([ok])
      let connects = 0
      // A connection that never completes: the request waits in the dispatcher's queue.
      const stalled = yield* Effect.acquireRelease(
        Effect.sync(() =>
          new Undici.Agent({
            connect: () => {
              connects++
            }
          })
        ),
        (agent) => Effect.promise(() => agent.destroy())
      )
      const api = yield* OAuthApi.makeUndici({ dispatcher: stalled }).pipe(
        Effect.provide(OAuthConfig.layer({
          clientId: fixtures.clientId,
          clientSecret: Redacted.make(fixtures.clientSecret),
          oauthUrl: server.url,
          requestTimeout: "100 millis",
          retrySchedule: OAuthConfig.noRetries
        }))
      )
      const error = yield* failure(api.oauthTokenGenerate(generateRequest))
      expect(error).toMatchObject({ _tag: "TransportError", outcome: "NotSent", reason: "Timeout" })
      expect(connects).toBe(1)
      expect((yield* server.requests).length).toBe(0)
    })))

  it.scoped("a route lost after the request was handed to the connection is outcome-unknown: the code is sent once", () =>
    Effect.gen(function*() {
      let written = 0
      // As undici reports it when the route to the host vanishes while an established connection waits for its answer.
      const lostRoute = Object.assign(Object.create(Undici.Dispatcher.prototype), {
        dispatch: (_options: Undici.Dispatcher.DispatchOptions, handler: Undici.Dispatcher.DispatchHandler) => {
          const controller: Undici.Dispatcher.DispatchController = {
            abort: () => {},
            pause: () => {},
            resume: () => {},
            aborted: false,
            paused: false,
            reason: null
          }
          handler.onRequestStart?.(controller, {})
          written++
          setTimeout(() =>
            handler.onResponseError?.(
              controller,
              Object.assign(new Error("read EHOSTUNREACH"), { code: "EHOSTUNREACH", syscall: "read" })
            ), 1)
          return true
        }
      }) as Undici.Dispatcher
      const api = yield* OAuthApi.makeUndici({ dispatcher: lostRoute }).pipe(
        Effect.provide(OAuthConfig.layer({
          clientId: fixtures.clientId,
          clientSecret: Redacted.make(fixtures.clientSecret),
          oauthUrl: "https://app.hellosign.com",
          retrySchedule: Schedule.recurs(4)
        }))
      )
      const error = yield* failure(api.oauthTokenGenerate(generateRequest))
      expect(error).toMatchObject({ _tag: "TransportError", outcome: "Unknown", reason: "HostUnreachable" })
      expect(written).toBe(1)
    }))

  it.scoped("layerUndici without a dispatcher uses an Agent of its own", () =>
    Effect.gen(function*() {
      const server = yield* MockHttp.serve([ok])
      const context = yield* Layer.build(
        OAuthApi.layerUndici().pipe(
          Layer.provide(OAuthConfig.layer({
            clientId: fixtures.clientId,
            clientSecret: Redacted.make(fixtures.clientSecret),
            oauthUrl: server.url
          }))
        )
      )
      const api = Context.get(context, OAuthApi.OAuthApi)
      const response = yield* api.oauthTokenRefresh(refreshRequest())
      expect(Redacted.value(response.accessToken)).toBe(fixtures.accessToken)
      const [request] = yield* server.requests
      expect(request.body).toBe(refreshBody)
      expect(ourHeaders(request.headers)).toStrictEqual(expectedHeaders)
    }))
})
