import type { OAuthError } from "@dropbox-sign-effect/oauth"
import { OAuthApi, OAuthConfig, OAuthSchema } from "@dropbox-sign-effect/oauth"
import { TestTime } from "@dropbox-sign-effect/testing"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Exit, Fiber, Layer, Redacted, Schedule, TestClock } from "effect"
const { advanceUntilDone, flushIo } = TestTime
import { fixtures, tokenResponseJson } from "./utils/fixtures.js"
import * as MockHttp from "./utils/MockHttp.js"

const setup = (replies: ReadonlyArray<MockHttp.Reply>, options: Partial<OAuthConfig.Options> = {}) =>
  Effect.gen(function*() {
    const mock = yield* MockHttp.make(replies)
    const config = OAuthConfig.layer({
      clientId: fixtures.clientId,
      clientSecret: Redacted.make(fixtures.clientSecret),
      ...options
    })
    const api = yield* OAuthApi.make.pipe(Effect.provide(Layer.merge(mock.layer, config)))
    return { api, requests: mock.requests }
  })

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

/** Runs `effect` in a fiber while the test clock is advanced, and returns its exit. */
const withClock = <A>(effect: Effect.Effect<A, OAuthError.OAuthError>, step?: Duration.DurationInput) =>
  Effect.fork(effect).pipe(Effect.flatMap((fiber) => advanceUntilDone(fiber, step)))

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isFailure(exit) && exit.cause._tag === "Fail") return exit.cause.error
  throw new Error(`expected a failure, got ${String(exit)}`)
}

describe("OAuthApi wire conformance", () => {
  it.effect("oauthTokenGenerate sends exactly the fixture body as JSON to POST /oauth/token", () =>
    Effect.gen(function*() {
      const { api, requests } = yield* setup([ok])
      yield* api.oauthTokenGenerate(generateRequest)
      const [request] = yield* requests
      expect(request.method).toBe("POST")
      expect(request.url).toBe("https://app.hellosign.com/oauth/token")
      expect(request.headers["content-type"]).toBe("application/json")
      expect(request.headers["authorization"]).toBeUndefined()
      expect(JSON.parse(request.body)).toStrictEqual({
        client_id: fixtures.clientId,
        client_secret: fixtures.clientSecret,
        code: fixtures.code,
        state: fixtures.state,
        grant_type: "authorization_code"
      })
    }))

  it.effect("oauthTokenRefresh posts to /oauth/token?refresh (a bare flag) with the client credentials", () =>
    Effect.gen(function*() {
      const { api, requests } = yield* setup([ok])
      yield* api.oauthTokenRefresh(refreshRequest())
      const [request] = yield* requests
      expect(request.method).toBe("POST")
      expect(request.url).toBe("https://app.hellosign.com/oauth/token?refresh")
      expect(request.headers["content-type"]).toBe("application/json")
      expect(request.headers["authorization"]).toBeUndefined()
      expect(JSON.parse(request.body)).toStrictEqual({
        grant_type: "refresh_token",
        refresh_token: fixtures.refreshToken,
        client_id: fixtures.clientId,
        client_secret: fixtures.clientSecret
      })
    }))

  it.effect("oauthTokenRefresh omits the client credentials when the request has none", () =>
    Effect.gen(function*() {
      const { api, requests } = yield* setup([ok])
      yield* api.oauthTokenRefresh(refreshRequest(false))
      const [request] = yield* requests
      expect(JSON.parse(request.body)).toStrictEqual({
        grant_type: "refresh_token",
        refresh_token: fixtures.refreshToken
      })
    }))

  it.effect("uses the configured OAuth base URL (loopback http allowed)", () =>
    Effect.gen(function*() {
      const { api, requests } = yield* setup([ok], { oauthUrl: "http://127.0.0.1:8080/base/" })
      yield* api.oauthTokenRefresh(refreshRequest())
      const [request] = yield* requests
      expect(request.url).toBe("http://127.0.0.1:8080/base/oauth/token?refresh")
    }))
})

describe("OAuthApi decoding", () => {
  it.effect("decodes the fixture response", () =>
    Effect.gen(function*() {
      const { api } = yield* setup([ok])
      const response = yield* api.oauthTokenGenerate(generateRequest)
      expect(Redacted.value(response.accessToken)).toBe(fixtures.accessToken)
      expect(response.refreshToken && Redacted.value(response.refreshToken)).toBe(fixtures.refreshToken)
      expect(response.tokenType).toBe("Bearer")
      expect(response.expiresIn).toBe(86400)
      expect(response.state).toBe(fixtures.state)
    }))

  it.effect("accepts state: null and unknown extra fields", () =>
    Effect.gen(function*() {
      const { api } = yield* setup([
        MockHttp.json(200, { ...tokenResponseJson, state: null, scope: "basic_account_info", extra: { a: 1 } })
      ])
      const response = yield* api.oauthTokenRefresh(refreshRequest())
      expect(response.state).toBeNull()
      expect(response.expiresIn).toBe(86400)
    }))

  it.effect("accepts a response without refresh_token (the previous one stays valid)", () =>
    Effect.gen(function*() {
      const { refresh_token: _, ...withoutRefresh } = tokenResponseJson
      const { api } = yield* setup([MockHttp.json(200, withoutRefresh)])
      const response = yield* api.oauthTokenRefresh(refreshRequest())
      expect(response.refreshToken).toBeUndefined()
    }))

  const { access_token: _omitted, ...withoutAccessToken } = tokenResponseJson
  const undecodable: ReadonlyArray<readonly [string, MockHttp.Reply, string]> = [
    ["a missing access_token", MockHttp.json(200, withoutAccessToken), "access_token is missing"],
    [
      "an empty access_token",
      MockHttp.json(200, { ...tokenResponseJson, access_token: "" }),
      "access_token is invalid"
    ],
    [
      "a non-numeric expires_in",
      MockHttp.json(200, { ...tokenResponseJson, expires_in: "86400" }),
      "expires_in is invalid"
    ],
    ["a negative expires_in", MockHttp.json(200, { ...tokenResponseJson, expires_in: -5 }), "expires_in is invalid"],
    [
      "an HTML body",
      MockHttp.raw(200, "<html><body>Oops</body></html>", { "content-type": "text/html" }),
      "not valid JSON"
    ],
    ["a truncated body", MockHttp.raw(200, JSON.stringify(tokenResponseJson).slice(0, 40)), "not valid JSON"],
    ["an empty body", MockHttp.raw(200, ""), "empty"],
    ["a JSON array", MockHttp.json(200, [1, 2]), "the body is invalid"]
  ]
  for (const [name, reply, description] of undecodable) {
    it.effect(`${name} fails with ResponseDecodeError`, () =>
      Effect.gen(function*() {
        const { api, requests } = yield* setup([reply])
        const error = yield* Effect.flip(api.oauthTokenGenerate(generateRequest))
        expect(error._tag).toBe("ResponseDecodeError")
        if (error._tag !== "ResponseDecodeError") return
        expect(error.description).toContain(description)
        expect(error.message).not.toContain(fixtures.accessToken)
        expect((yield* requests).length).toBe(1)
      }))
  }
})

describe("OAuthApi errors and retries", () => {
  it.effect("the Dropbox Sign error shape gives OAuthApiError with status, name, message and path", () =>
    Effect.gen(function*() {
      const { api } = yield* setup([
        MockHttp.json(400, { error: { error_msg: "Invalid code", error_name: "bad_request", error_path: "code" } })
      ])
      const error = yield* Effect.flip(api.oauthTokenGenerate(generateRequest))
      expect(error).toMatchObject({
        _tag: "OAuthApiError",
        status: 400,
        errorName: "bad_request",
        errorMsg: "Invalid code",
        errorPath: "code"
      })
    }))

  it.effect("the RFC 6749 error shape gives OAuthApiError too, terminal for invalid_grant", () =>
    Effect.gen(function*() {
      const { api } = yield* setup([
        MockHttp.json(400, { error: "invalid_grant", error_description: "The refresh token is invalid" })
      ])
      const error = yield* Effect.flip(api.oauthTokenRefresh(refreshRequest()))
      expect(error).toMatchObject({
        _tag: "OAuthApiError",
        status: 400,
        errorName: "invalid_grant",
        errorMsg: "The refresh token is invalid"
      })
      expect(error._tag === "OAuthApiError" && error.isTerminal).toBe(true)
    }))

  it.effect("credential errors are not terminal (re-authorization cannot fix them)", () =>
    Effect.gen(function*() {
      const { api } = yield* setup([
        MockHttp.json(401, {
          error: { error_msg: "Bad secret", error_name: "unauthorized", error_path: "client_secret" }
        })
      ])
      const error = yield* Effect.flip(api.oauthTokenRefresh(refreshRequest()))
      expect(error._tag === "OAuthApiError" && error.isTerminal).toBe(false)
    }))

  it.effect("an unrecognised 4XX body still gives OAuthApiError, keeping the body redacted", () =>
    Effect.gen(function*() {
      const { api } = yield* setup([MockHttp.raw(403, "<html>Forbidden</html>")])
      const error = yield* Effect.flip(api.oauthTokenRefresh(refreshRequest()))
      expect(error).toMatchObject({ _tag: "OAuthApiError", status: 403, errorName: "http_403" })
      if (error._tag === "OAuthApiError") expect(Redacted.value(error.body)).toBe("<html>Forbidden</html>")
    }))

  it.effect("a redirect is not followed and surfaces as OAuthApiError", () =>
    Effect.gen(function*() {
      const { api, requests } = yield* setup([MockHttp.raw(307, "", { location: "https://evil.example/steal" })])
      const error = yield* Effect.flip(api.oauthTokenRefresh(refreshRequest()))
      expect(error).toMatchObject({ _tag: "OAuthApiError", status: 307, errorName: "unexpected_redirect" })
      expect((yield* requests).length).toBe(1)
    }))

  it.effect("502/503/504 are retried with backoff, then ServerError", () =>
    Effect.gen(function*() {
      const { api, requests } = yield* setup([MockHttp.raw(503, "unavailable")])
      const start = yield* TestClock.currentTimeMillis
      const exit = yield* withClock(api.oauthTokenRefresh(refreshRequest()))
      expect(failureOf(exit)).toMatchObject({ _tag: "ServerError", status: 503 })
      // The default schedule: 5 attempts, and the exponential delays (jittered by 0.8–1.2) between them.
      expect((yield* requests).length).toBe(5)
      const elapsed = (yield* TestClock.currentTimeMillis) - start
      expect(elapsed).toBeGreaterThanOrEqual(0.8 * (250 + 500 + 1000 + 2000))
    }))

  it.effect("a transient 5xx followed by success succeeds", () =>
    Effect.gen(function*() {
      const { api, requests } = yield* setup([MockHttp.raw(502, ""), MockHttp.raw(504, ""), ok])
      const exit = yield* withClock(api.oauthTokenGenerate(generateRequest))
      expect(Exit.isSuccess(exit)).toBe(true)
      expect((yield* requests).length).toBe(3)
    }))

  it.effect("a 500 is outcome-unknown: the code is sent once, ServerError at once", () =>
    Effect.gen(function*() {
      const { api, requests } = yield* setup([MockHttp.raw(500, "boom"), ok])
      const error = yield* Effect.flip(api.oauthTokenGenerate(generateRequest))
      expect(error).toMatchObject({ _tag: "ServerError", status: 500 })
      expect((yield* requests).length).toBe(1)
    }))

  it.effect("429 with Retry-After waits the advertised time before retrying, then RateLimitedError", () =>
    Effect.gen(function*() {
      const limited = MockHttp.json(429, { error: { error_msg: "Rate limit", error_name: "exceeded_rate" } }, {
        "retry-after": "20",
        "x-ratelimit-limit": "100",
        "x-ratelimit-remaining": "0"
      })
      const { api, requests } = yield* setup([limited], { retrySchedule: Schedule.recurs(1) })
      const fiber = yield* Effect.fork(api.oauthTokenRefresh(refreshRequest()))
      yield* flushIo
      yield* TestClock.adjust("19 seconds")
      yield* flushIo
      expect((yield* requests).length).toBe(1)
      yield* TestClock.adjust("1 second")
      const exit = yield* advanceUntilDone(fiber)
      expect((yield* requests).length).toBe(2)
      const error = failureOf(exit)
      expect(error).toMatchObject({ _tag: "RateLimitedError", limit: 100, remaining: 0 })
      if (error._tag === "RateLimitedError") expect(Duration.toSeconds(error.retryAfter)).toBe(20)
    }))

  it.effect("429 with X-Ratelimit-Reset waits until the reset instant", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_000)
      const limited = MockHttp.json(429, { error: { error_msg: "Rate limit", error_name: "exceeded_rate" } }, {
        "X-Ratelimit-Reset": String(1_700_000_000 + 45)
      })
      const { api, requests } = yield* setup([limited, ok])
      const fiber = yield* Effect.fork(api.oauthTokenGenerate(generateRequest))
      yield* flushIo
      yield* TestClock.adjust("44 seconds")
      yield* flushIo
      expect((yield* requests).length).toBe(1)
      const exit = yield* advanceUntilDone(fiber, "1 second")
      expect(Exit.isSuccess(exit)).toBe(true)
      expect((yield* requests).length).toBe(2)
    }))

  it.effect("a 429 asking for longer than maxRateLimitWait fails at once", () =>
    Effect.gen(function*() {
      const { api, requests } = yield* setup([MockHttp.json(429, {}, { "retry-after": "3600" })])
      const error = yield* Effect.flip(api.oauthTokenRefresh(refreshRequest()))
      expect(error._tag).toBe("RateLimitedError")
      expect((yield* requests).length).toBe(1)
    }))

  it.effect("a refused connection (not sent) is retried", () =>
    Effect.gen(function*() {
      const { api, requests } = yield* setup([MockHttp.transport("ECONNREFUSED"), ok])
      const exit = yield* withClock(api.oauthTokenGenerate(generateRequest))
      expect(Exit.isSuccess(exit)).toBe(true)
      expect((yield* requests).length).toBe(2)
    }))

  it.effect("a refused connection that persists ends in TransportError NotSent", () =>
    Effect.gen(function*() {
      const { api } = yield* setup([MockHttp.transport("ECONNREFUSED")])
      const exit = yield* withClock(api.oauthTokenRefresh(refreshRequest()))
      expect(failureOf(exit)).toMatchObject({ _tag: "TransportError", outcome: "NotSent", reason: "ECONNREFUSED" })
    }))

  it.effect("a reset after sending gives TransportError Unknown, and the code is sent exactly once", () =>
    Effect.gen(function*() {
      const { api, requests } = yield* setup([MockHttp.transport("ECONNRESET"), ok])
      const error = yield* Effect.flip(api.oauthTokenGenerate(generateRequest))
      expect(error).toMatchObject({ _tag: "TransportError", outcome: "Unknown" })
      expect((yield* requests).length).toBe(1)
    }))

  it.effect("a timeout gives TransportError Unknown after the configured timeout, sent exactly once", () =>
    Effect.gen(function*() {
      const { api, requests } = yield* setup([MockHttp.hang, ok], { requestTimeout: "5 seconds" })
      const fiber = yield* Effect.fork(api.oauthTokenGenerate(generateRequest))
      yield* flushIo
      yield* TestClock.adjust("4999 millis")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 millis")
      const error = failureOf(yield* Fiber.await(fiber))
      expect(error).toMatchObject({ _tag: "TransportError", outcome: "Unknown", reason: "timeout" })
      expect((yield* requests).length).toBe(1)
    }))

  it.effect("the retry schedule is replaceable", () =>
    Effect.gen(function*() {
      const { api, requests } = yield* setup([MockHttp.raw(503, "")], { retrySchedule: OAuthConfig.noRetries })
      const error = yield* Effect.flip(api.oauthTokenRefresh(refreshRequest()))
      expect(error._tag).toBe("ServerError")
      expect((yield* requests).length).toBe(1)
    }))
})
