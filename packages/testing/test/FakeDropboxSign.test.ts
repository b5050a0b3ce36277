import * as Util from "node:util"

import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import type { HttpClient, HttpClientError } from "@effect/platform"
import { HttpClientRequest } from "@effect/platform"
import { assert, describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Predicate, Redacted, Schema, TestClock } from "effect"

import { type Answer, decode, DropboxErrorBody, oauthUrl, send, TokenBody } from "./utils/http.js"

const { defaultApp, Fault } = FakeDropboxSign
const clientSecret = Redacted.value(defaultApp.clientSecret)

// The library's default API base URL: the in-memory client must serve it as it is.
const apiUrl = "https://api.hellosign.com/v3"

const RfcErrorBody = Schema.Struct({ error: Schema.String, error_description: Schema.String })

const AccountBody = Schema.Struct({
  account: Schema.Struct({ account_id: Schema.String, email_address: Schema.String })
})

type Encoding = "json" | "form" | "multipart"

const tokenRequest = (
  fields: Readonly<Record<string, string>>,
  options: { readonly refresh?: boolean; readonly encoding?: Encoding } = {}
) => {
  const request = HttpClientRequest.post(`${oauthUrl}/oauth/token${options.refresh === true ? "?refresh" : ""}`)
  switch (options.encoding ?? "json") {
    case "json":
      return HttpClientRequest.bodyUnsafeJson(request, fields)
    case "form":
      return HttpClientRequest.bodyUrlParams(request, fields)
    case "multipart": {
      const form = new FormData()
      for (const [key, value] of Object.entries(fields)) form.append(key, value)
      return HttpClientRequest.bodyFormData(request, form)
    }
  }
}

const exchangeFields = (code: string, state: string, overrides: Readonly<Record<string, string>> = {}) => ({
  grant_type: "authorization_code",
  client_id: defaultApp.clientId,
  client_secret: clientSecret,
  code,
  state,
  ...overrides
})

const refreshFields = (refreshToken: string, overrides: Readonly<Record<string, string>> = {}) => ({
  grant_type: "refresh_token",
  refresh_token: refreshToken,
  client_id: defaultApp.clientId,
  client_secret: clientSecret,
  ...overrides
})

const exchange = (code: string, state: string, encoding?: Encoding) =>
  send(tokenRequest(exchangeFields(code, state), encoding === undefined ? {} : { encoding }))

const refresh = (refreshToken: string, overrides: Readonly<Record<string, string>> = {}) =>
  send(tokenRequest(refreshFields(refreshToken, overrides), { refresh: true }))

const authorize = (state: string, clientId: string = defaultApp.clientId) =>
  send(HttpClientRequest.get(`${oauthUrl}/oauth/authorize`, {
    urlParams: { response_type: "code", client_id: clientId, state }
  }))

const account = (accessToken?: string) =>
  send(
    HttpClientRequest.get(`${apiUrl}/account`).pipe(
      accessToken === undefined ? (request) => request : HttpClientRequest.bearerToken(accessToken)
    )
  )

/** A code from the fake, skipping the browser, and its token pair. */
const tokens = (state = "st-1") =>
  Effect.gen(function*() {
    const fake = yield* FakeDropboxSign.FakeDropboxSign
    const code = yield* fake.issueCode({ state })
    return yield* exchange(Redacted.value(code), state).pipe(Effect.flatMap(decode(TokenBody)))
  })

const errorName = (answer: Answer) => Effect.map(decode(DropboxErrorBody)(answer), (body) => body.error)

const transportCode = (error: HttpClientError.HttpClientError): string | undefined =>
  error._tag === "RequestError" && error.reason === "Transport" &&
    Predicate.hasProperty(error.cause, "code") && Predicate.isString(error.cause.code) ?
    error.cause.code :
    undefined

/** Waits until a forked fiber has registered a sleep with the `TestClock`. */
const awaitSleeper = Effect.gen(function*() {
  while (Chunk.isEmpty(yield* TestClock.sleeps())) {
    yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
  }
})

const withFake = <A, E>(
  effect: Effect.Effect<A, E, FakeDropboxSign.FakeDropboxSign | HttpClient.HttpClient>,
  options?: FakeDropboxSign.Options
) =>
  Effect.provide(effect, options === undefined ? FakeDropboxSign.layerClient : FakeDropboxSign.layerClientWith(options))

describe("FakeDropboxSign (in-memory client)", () => {
  describe("consent", () => {
    it.effect("redirects to the callback with a code and the state", () =>
      withFake(Effect.gen(function*() {
        const answer = yield* authorize("state-123")
        expect(answer.status).toBe(302)
        const location = new URL(answer.headers["location"]!)
        expect(location.origin + location.pathname).toBe(defaultApp.callbackUrl)
        expect(location.searchParams.get("state")).toBe("state-123")
        const code = location.searchParams.get("code")
        assert(code !== null && code.length >= 32)
        const body = yield* exchange(code, "state-123").pipe(Effect.flatMap(decode(TokenBody)))
        expect(body.state).toBe("state-123")
      })))

    it.effect("denies with error=access_denied, once per denyNextConsent and always when the app says so", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        yield* fake.denyNextConsent
        const denied = new URL((yield* authorize("s-deny")).headers["location"]!)
        expect(denied.searchParams.get("error")).toBe("access_denied")
        expect(denied.searchParams.get("state")).toBe("s-deny")
        expect(denied.searchParams.has("code")).toBe(false)
        const allowed = new URL((yield* authorize("s-allow")).headers["location"]!)
        expect(allowed.searchParams.has("code")).toBe(true)

        const app = yield* fake.registerApp({ consent: "deny", callbackUrl: "https://example.com/cb?x=1" })
        const byApp = new URL((yield* authorize("s-app", app.clientId)).headers["location"]!)
        expect(byApp.origin + byApp.pathname).toBe("https://example.com/cb")
        expect(byApp.searchParams.get("x")).toBe("1")
        expect(byApp.searchParams.get("error")).toBe("access_denied")
        const counters = yield* fake.counters
        expect(counters.consentsDenied).toBe(2)
        expect(counters.consentsGranted).toBe(1)
      })))

    it.effect("answers 400 for an unknown client", () =>
      withFake(Effect.gen(function*() {
        const answer = yield* authorize("s", "no-such-client")
        expect(answer.status).toBe(400)
        expect((yield* errorName(answer)).error_path).toBe("client_id")
        const missing = yield* send(HttpClientRequest.get(`${oauthUrl}/oauth/authorize?response_type=code&state=s`))
        expect(missing.status).toBe(400)
      })))
  })

  describe("code exchange", () => {
    it.effect("issues a Bearer pair with the app's TTL, as JSON, with rate-limit headers", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const code = yield* fake.issueCode({ state: "900e06e2" })
        const answer = yield* exchange(Redacted.value(code), "900e06e2")
        expect(answer.status).toBe(200)
        expect(answer.headers["content-type"]).toBe("application/json")
        expect(answer.headers["x-ratelimit-limit"]).toBe("100")
        expect(answer.headers["x-ratelimit-remaining"]).toBe("99")
        expect(answer.headers["x-ratelimit-reset"]).toBe("60")
        const body = yield* decode(TokenBody)(answer)
        expect(body.expires_in).toBe(3600)
        expect(body.state).toBe("900e06e2")
        expect(body.access_token).not.toBe(body.refresh_token)
      })))

    it.effect("accepts form-urlencoded and multipart bodies", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        for (const encoding of ["form", "multipart"] as const) {
          const code = yield* fake.issueCode({ state: encoding })
          const body = yield* exchange(Redacted.value(code), encoding, encoding).pipe(Effect.flatMap(decode(TokenBody)))
          expect(body.state).toBe(encoding)
        }
        const requests = yield* fake.requests
        expect(requests.map((r) => r.contentType?.split(";")[0])).toEqual([
          "application/x-www-form-urlencoded",
          "multipart/form-data"
        ])
      })))

    it.effect("a code is single-use", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const code = Redacted.value(yield* fake.issueCode({ state: "s" }))
        expect((yield* exchange(code, "s")).status).toBe(200)
        const second = yield* exchange(code, "s")
        expect(second.status).toBe(400)
        expect(yield* errorName(second)).toMatchObject({ error_name: "invalid_grant", error_path: "code" })
      })))

    it.effect("a code expires after the app's code TTL (TestClock)", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const fresh = Redacted.value(yield* fake.issueCode({ state: "s" }))
        const stale = Redacted.value(yield* fake.issueCode({ state: "s" }))
        yield* TestClock.adjust("9 minutes")
        expect((yield* exchange(fresh, "s")).status).toBe(200)
        yield* TestClock.adjust("1 minute")
        const answer = yield* exchange(stale, "s")
        expect(answer.status).toBe(400)
        expect((yield* errorName(answer)).error_msg).toMatch(/expired/)
      })))

    it.effect("checks the client secret, the state, the grant type and the code's client", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const code = Redacted.value(yield* fake.issueCode({ state: "s" }))
        const badSecret = yield* send(tokenRequest(exchangeFields(code, "s", { client_secret: "wrong" })))
        expect(badSecret.status).toBe(401)
        expect(yield* errorName(badSecret)).toMatchObject({ error_name: "unauthorized", error_path: "client_secret" })

        const badState = yield* exchange(code, "other")
        expect(yield* errorName(badState)).toMatchObject({ error_name: "invalid_grant", error_path: "state" })

        const badGrant = yield* send(tokenRequest(exchangeFields(code, "s", { grant_type: "password" })))
        expect(yield* errorName(badGrant)).toMatchObject({ error_name: "bad_request", error_path: "grant_type" })

        const other = yield* fake.registerApp()
        const wrongClient = yield* send(tokenRequest(exchangeFields(code, "s", {
          client_id: other.clientId,
          client_secret: Redacted.value(other.clientSecret)
        })))
        expect(yield* errorName(wrongClient)).toMatchObject({ error_name: "invalid_grant", error_path: "code" })

        const missing = yield* send(tokenRequest({ grant_type: "authorization_code", client_id: defaultApp.clientId }))
        expect(yield* errorName(missing)).toMatchObject({ error_name: "bad_request", error_path: "client_secret" })

        const malformed = yield* send(
          HttpClientRequest.post(`${oauthUrl}/oauth/token`).pipe(
            HttpClientRequest.bodyText("{not json", "application/json")
          )
        )
        expect(yield* errorName(malformed)).toMatchObject({ error_name: "bad_request" })

        // None of the failures consumed the code.
        expect((yield* exchange(code, "s")).status).toBe(200)
        expect((yield* fake.counters).rejected).toBe(6)
      })))

    it.effect("answers in the RFC 6749 shape when the app says so", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        yield* fake.updateApp(defaultApp.clientId, { errorShape: "rfc6749" })
        const grant = yield* exchange("no-such-code", "s")
        expect(grant.status).toBe(400)
        expect(yield* decode(RfcErrorBody)(grant)).toMatchObject({ error: "invalid_grant" })
        const client = yield* send(tokenRequest(exchangeFields("c", "s", { client_secret: "wrong" })))
        expect(client.status).toBe(401)
        expect(yield* decode(RfcErrorBody)(client)).toMatchObject({ error: "invalid_client" })
        const grantType = yield* send(tokenRequest(exchangeFields("c", "s", { grant_type: "implicit" })))
        expect(yield* decode(RfcErrorBody)(grantType)).toMatchObject({ error: "unsupported_grant_type" })
        expect(grant.headers["x-ratelimit-remaining"]).toBeDefined()
      })))

    it.effect("fails updateApp and issueCode for unknown ids", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const update = yield* Effect.exit(fake.updateApp("nope", { rotateRefreshTokens: true }))
        expect(Exit.isFailure(update)).toBe(true)
        const code = yield* Effect.exit(fake.issueCode({ state: "s", accountId: "nope" }))
        expect(Exit.isFailure(code)).toBe(true)
        const signIn = yield* Effect.exit(fake.signIn("nope"))
        expect(Exit.isFailure(signIn)).toBe(true)
      })))
  })

  describe("refresh", () => {
    it.effect("without rotation keeps the refresh token and issues new access tokens", () =>
      withFake(Effect.gen(function*() {
        const first = yield* tokens()
        const answer = yield* refresh(first.refresh_token)
        expect(answer.status).toBe(200)
        expect(answer.headers["x-ratelimit-limit"]).toBe("100")
        const second = yield* decode(TokenBody)(answer)
        expect(second.refresh_token).toBe(first.refresh_token)
        expect(second.access_token).not.toBe(first.access_token)
        expect(second.state).toBeNull()
        const third = yield* refresh(first.refresh_token).pipe(Effect.flatMap(decode(TokenBody)))
        expect(third.refresh_token).toBe(first.refresh_token)
        const counters = yield* (yield* FakeDropboxSign.FakeDropboxSign).counters
        expect(counters).toMatchObject({ refreshRequests: 2, refreshesServed: 2, tokenRequests: 1, codesExchanged: 1 })
      })))

    it.effect("with rotation issues a new refresh token and rejects the old one", () =>
      withFake(
        Effect.gen(function*() {
          const first = yield* tokens()
          const second = yield* refresh(first.refresh_token).pipe(Effect.flatMap(decode(TokenBody)))
          expect(second.refresh_token).not.toBe(first.refresh_token)
          const old = yield* refresh(first.refresh_token)
          expect(old.status).toBe(400)
          expect(yield* errorName(old)).toMatchObject({ error_name: "invalid_grant", error_path: "refresh_token" })
          expect((yield* refresh(second.refresh_token)).status).toBe(200)
        }),
        { defaultApp: { rotateRefreshTokens: true } }
      ))

    it.effect("requires client credentials when the app does, and not otherwise", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const pair = yield* tokens()
        const bare = tokenRequest({ grant_type: "refresh_token", refresh_token: pair.refresh_token }, { refresh: true })
        const required = yield* send(bare)
        expect(required.status).toBe(401)
        expect(yield* errorName(required)).toMatchObject({ error_name: "unauthorized", error_path: "client_id" })
        const wrong = yield* refresh(pair.refresh_token, { client_secret: "wrong" })
        expect(yield* errorName(wrong)).toMatchObject({ error_name: "unauthorized", error_path: "client_secret" })

        yield* fake.updateApp(defaultApp.clientId, { requireClientCredentialsOnRefresh: false })
        expect((yield* send(bare)).status).toBe(200)
        // Credentials, when sent, are still checked.
        expect((yield* refresh(pair.refresh_token, { client_secret: "wrong" })).status).toBe(401)
      })))

    it.effect("rejects a refresh on the plain token endpoint and a code exchange on ?refresh", () =>
      withFake(Effect.gen(function*() {
        const pair = yield* tokens()
        const plain = yield* send(tokenRequest(refreshFields(pair.refresh_token)))
        expect(yield* errorName(plain)).toMatchObject({ error_path: "grant_type" })
        const flagged = yield* send(tokenRequest(exchangeFields("c", "s"), { refresh: true }))
        expect(yield* errorName(flagged)).toMatchObject({ error_path: "grant_type" })
      })))

    it.effect("a revoked grant rejects its refresh and access tokens", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const pair = yield* tokens()
        expect(yield* fake.revokeGrant({ clientId: defaultApp.clientId })).toBe(1)
        const answer = yield* refresh(pair.refresh_token)
        expect(yield* errorName(answer)).toMatchObject({ error_name: "invalid_grant" })
        expect((yield* account(pair.access_token)).status).toBe(401)
        // A new authorization works again.
        expect((yield* account((yield* tokens()).access_token)).status).toBe(200)
      })))

    it.effect("serves 1,000 concurrent refreshes; with rotation exactly one wins", () =>
      Effect.gen(function*() {
        const plain = yield* withFake(Effect.gen(function*() {
          const pair = yield* tokens()
          const answers = yield* Effect.forEach(
            Array.from({ length: 1000 }),
            () => refresh(pair.refresh_token),
            { concurrency: "unbounded" }
          )
          return {
            statuses: answers.map((a) => a.status),
            counters: yield* (yield* FakeDropboxSign.FakeDropboxSign).counters
          }
        }))
        expect(plain.statuses.every((s) => s === 200)).toBe(true)
        expect(plain.counters.refreshesServed).toBe(1000)

        const rotating = yield* withFake(
          Effect.gen(function*() {
            const pair = yield* tokens()
            return yield* Effect.forEach(Array.from({ length: 1000 }), () => refresh(pair.refresh_token), {
              concurrency: "unbounded"
            })
          }),
          { defaultApp: { rotateRefreshTokens: true } }
        )
        expect(rotating.filter((a) => a.status === 200)).toHaveLength(1)
      }))
  })

  describe("GET /v3/account", () => {
    it.effect("answers the account for a valid token and 401 once it expired", () =>
      withFake(Effect.gen(function*() {
        const pair = yield* tokens()
        const answer = yield* account(pair.access_token)
        expect(answer.status).toBe(200)
        expect(yield* decode(AccountBody)(answer)).toEqual({
          account: expect.objectContaining({
            account_id: FakeDropboxSign.defaultAccount.accountId,
            email_address: FakeDropboxSign.defaultAccount.emailAddress
          })
        })
        yield* TestClock.adjust("1 hour")
        const expired = yield* account(pair.access_token)
        expect(expired.status).toBe(401)
        expect(yield* errorName(expired)).toMatchObject({ error_name: "unauthorized" })
        // The refresh token outlives it.
        const renewed = yield* refresh(pair.refresh_token).pipe(Effect.flatMap(decode(TokenBody)))
        expect((yield* account(renewed.access_token)).status).toBe(200)
      })))

    it.effect("answers 401 without a token, for an unknown one and after expireAllTokens", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        expect((yield* account()).status).toBe(401)
        expect((yield* account("unknown")).status).toBe(401)
        const pair = yield* tokens()
        yield* fake.expireAllTokens
        expect((yield* account(pair.access_token)).status).toBe(401)
        expect((yield* refresh(pair.refresh_token)).status).toBe(200)
      })))

    it.effect("returns the account that consented", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const other = yield* fake.registerAccount({ emailAddress: "other@example.com" })
        yield* fake.signIn(other.accountId)
        const code = new URL((yield* authorize("s")).headers["location"]!).searchParams.get("code")!
        const pair = yield* exchange(code, "s").pipe(Effect.flatMap(decode(TokenBody)))
        const body = yield* account(pair.access_token).pipe(Effect.flatMap(decode(AccountBody)))
        expect(body.account.email_address).toBe("other@example.com")
        // Revoking another account's grants leaves this one alone.
        expect(yield* fake.revokeGrant({ accountId: FakeDropboxSign.defaultAccount.accountId })).toBe(0)
        expect(yield* fake.revokeGrant({ accountId: other.accountId })).toBe(1)
      })))

    it.effect("answers 404 with an error body for paths it does not serve", () =>
      withFake(Effect.gen(function*() {
        const answer = yield* send(HttpClientRequest.get(`${apiUrl}/signature_request/list`))
        expect(answer.status).toBe(404)
        expect(yield* errorName(answer)).toMatchObject({ error_name: "not_found" })
        const [entry] = yield* (yield* FakeDropboxSign.FakeDropboxSign).requests
        expect(entry?.route).toBeUndefined()
      })))
  })

  describe("faults", () => {
    it.effect("Status: any status with either shape, consumed FIFO, `times` times", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const pair = yield* tokens()
        yield* fake.injectFault("refresh", Fault.Status({ status: 503 }), 2)
        yield* fake.injectFault("refresh", Fault.Status({ status: 400, errorName: "invalid_grant", shape: "rfc6749" }))
        const first = yield* refresh(pair.refresh_token)
        expect(first.status).toBe(503)
        expect(first.headers["x-ratelimit-limit"]).toBe("100")
        expect(yield* errorName(first)).toMatchObject({ error_name: "internal_server_error" })
        expect((yield* refresh(pair.refresh_token)).status).toBe(503)
        const third = yield* refresh(pair.refresh_token)
        expect(yield* decode(RfcErrorBody)(third)).toMatchObject({ error: "invalid_grant" })
        expect((yield* refresh(pair.refresh_token)).status).toBe(200)
        const counters = yield* fake.counters
        expect(counters).toMatchObject({ faultsInjected: 3, refreshRequests: 4, refreshesServed: 1, rejected: 0 })
        expect((yield* fake.requests).map((r) => r.fault)).toEqual([
          undefined,
          "Status",
          "Status",
          "Status",
          undefined
        ])
      })))

    it.effect("Status on other routes, with custom fields and headers", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        yield* fake.injectFault(
          "account",
          Fault.Status({ status: 403, errorMsg: "nope", errorPath: "x", headers: { "x-extra": "1" } })
        )
        const answer = yield* account("whatever")
        expect(answer.status).toBe(403)
        expect(answer.headers["x-extra"]).toBe("1")
        expect(yield* errorName(answer)).toEqual({ error_name: "forbidden", error_msg: "nope", error_path: "x" })
        yield* fake.injectFault("authorize", Fault.Status({ status: 500 }))
        expect((yield* authorize("s")).status).toBe(500)
      })))

    it.effect("RateLimited: Retry-After or X-Ratelimit-Reset, never both", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        yield* TestClock.adjust("1000 seconds")
        yield* fake.injectFault("token", Fault.RateLimited({ retryAfter: 7 }))
        yield* fake.injectFault("token", Fault.RateLimited({ resetAfter: 30 }))
        const retry = yield* exchange("c", "s")
        expect(retry.status).toBe(429)
        expect(retry.headers["retry-after"]).toBe("7")
        expect(retry.headers["x-ratelimit-reset"]).toBeUndefined()
        expect(yield* errorName(retry)).toMatchObject({ error_name: "exceeded_rate" })
        const reset = yield* exchange("c", "s")
        expect(reset.status).toBe(429)
        expect(reset.headers["retry-after"]).toBeUndefined()
        expect(reset.headers["x-ratelimit-reset"]).toBe("1030")
        expect(reset.headers["x-ratelimit-remaining"]).toBe("0")
      })))

    it.effect("Latency: answers after the delay, on the TestClock", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const code = Redacted.value(yield* fake.issueCode({ state: "s" }))
        yield* fake.injectFault("token", Fault.Latency({ duration: "2 seconds" }))
        const fiber = yield* Effect.fork(exchange(code, "s"))
        yield* awaitSleeper
        yield* TestClock.adjust("1 second")
        expect(fiber.unsafePoll()).toBeNull()
        yield* TestClock.adjust("1 second")
        expect((yield* Fiber.join(fiber)).status).toBe(200)
      })))

    it.effect("Latency: a client that gives up does not stop the server from carrying the request out", () =>
      withFake(
        Effect.gen(function*() {
          const fake = yield* FakeDropboxSign.FakeDropboxSign
          const pair = yield* tokens()
          yield* fake.injectFault("refresh", Fault.Latency({ duration: "5 seconds" }))
          const fiber = yield* Effect.fork(Effect.timeout(refresh(pair.refresh_token), "1 second"))
          yield* awaitSleeper
          yield* TestClock.adjust("1 second")
          const exit = yield* Fiber.await(fiber)
          expect(Exit.isFailure(exit) && String(exit.cause).includes("TimeoutException")).toBe(true)
          expect((yield* fake.counters).refreshesServed).toBe(0)
          yield* TestClock.adjust("4 seconds")
          expect((yield* fake.counters).refreshesServed).toBe(1)
          // Rotation happened on the server although the client never saw the answer.
          expect((yield* refresh(pair.refresh_token)).status).toBe(400)
        }),
        { defaultApp: { rotateRefreshTokens: true } }
      ))

    it.effect("ConnectionReset: a transport error with ECONNRESET; unprocessed keeps the code usable", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const code = Redacted.value(yield* fake.issueCode({ state: "s" }))
        yield* fake.injectFault("token", Fault.ConnectionReset({}))
        const error = yield* Effect.flip(exchange(code, "s"))
        expect(transportCode(error)).toBe("ECONNRESET")
        expect((yield* exchange(code, "s")).status).toBe(200)
        expect((yield* fake.counters).codesExchanged).toBe(1)
      })))

    it.effect("ConnectionReset({ processed: true }): the request took effect but the client never saw it", () =>
      withFake(
        Effect.gen(function*() {
          const fake = yield* FakeDropboxSign.FakeDropboxSign
          const pair = yield* tokens()
          yield* fake.injectFault("refresh", Fault.ConnectionReset({ processed: true }))
          const error = yield* Effect.flip(refresh(pair.refresh_token))
          expect(transportCode(error)).toBe("ECONNRESET")
          // Rotation happened: the token the client still holds is dead.
          expect((yield* refresh(pair.refresh_token)).status).toBe(400)
          expect((yield* fake.counters).refreshesServed).toBe(1)
        }),
        { defaultApp: { rotateRefreshTokens: true } }
      ))

    it.effect("ConnectionRefused: ECONNREFUSED, nothing processed, logged or counted but the fault", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        yield* fake.injectFault("account", Fault.ConnectionRefused())
        const error = yield* Effect.flip(account("t"))
        expect(transportCode(error)).toBe("ECONNREFUSED")
        expect(yield* fake.requests).toHaveLength(0)
        expect(yield* fake.counters).toMatchObject({ requests: 0, accountRequests: 0, faultsInjected: 1 })
      })))

    it.effect("Hang: never answers; the client's timeout ends it", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const pair = yield* tokens()
        yield* fake.injectFault("refresh", Fault.Hang())
        const fiber = yield* Effect.fork(Effect.timeout(refresh(pair.refresh_token), "30 seconds"))
        yield* awaitSleeper
        yield* TestClock.adjust("29 seconds")
        expect(fiber.unsafePoll()).toBeNull()
        yield* TestClock.adjust("1 second")
        const exit = yield* Fiber.await(fiber)
        expect(Exit.isFailure(exit) && String(exit.cause).includes("TimeoutException")).toBe(true)
        expect((yield* fake.counters).refreshesServed).toBe(0)
      })))

    it.effect("TruncatedJson: the request is processed, the body cut short", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const code = Redacted.value(yield* fake.issueCode({ state: "s" }))
        yield* fake.injectFault("token", Fault.TruncatedJson())
        const answer = yield* exchange(code, "s")
        expect(answer.status).toBe(200)
        expect(answer.headers["content-type"]).toBe("application/json")
        expect(() => JSON.parse(answer.text)).toThrow()
        expect(answer.text.startsWith("{\"access_token\":")).toBe(true)
        expect((yield* exchange(code, "s")).status).toBe(400)
      })))

    it.effect("HtmlPage: a proxy's HTML error page", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        yield* fake.injectFault("token", Fault.HtmlPage({}))
        yield* fake.injectFault("token", Fault.HtmlPage({ status: 504 }))
        const first = yield* exchange("c", "s")
        expect(first.status).toBe(502)
        expect(first.headers["content-type"]).toMatch(/^text\/html/)
        expect(first.text).toMatch(/<html>/)
        expect((yield* exchange("c", "s")).status).toBe(504)
      })))

    it.effect("WrongContentType: a valid token body sent as text/plain", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const code = Redacted.value(yield* fake.issueCode({ state: "s" }))
        yield* fake.injectFault("token", Fault.WrongContentType())
        const answer = yield* exchange(code, "s")
        expect(answer.status).toBe(200)
        expect(answer.headers["content-type"]).toMatch(/^text\/plain/)
        expect((yield* decode(TokenBody)(answer)).state).toBe("s")
      })))

    it.effect("RawBody: exactly the given status, body and content type", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        yield* fake.injectFault("token", Fault.RawBody({ status: 200, body: "[]", contentType: "application/json" }))
        const answer = yield* exchange("c", "s")
        expect(answer).toMatchObject({ status: 200, text: "[]" })
        expect(answer.headers["content-type"]).toBe("application/json")
      })))

    it.effect("clearFaults drops the queue; faults stay on their route", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        yield* fake.injectFault("refresh", Fault.Status({ status: 500 }))
        expect((yield* account()).status).toBe(401)
        yield* fake.clearFaults
        const pair = yield* tokens()
        expect((yield* refresh(pair.refresh_token)).status).toBe(200)
      })))
  })

  describe("rate limit", () => {
    it.effect("counts down per window and can be enforced", () =>
      withFake(
        Effect.gen(function*() {
          const fake = yield* FakeDropboxSign.FakeDropboxSign
          const pair = yield* tokens()
          const second = yield* refresh(pair.refresh_token)
          expect(second.headers["x-ratelimit-remaining"]).toBe("0")
          const third = yield* refresh(pair.refresh_token)
          expect(third.status).toBe(429)
          expect(third.headers["x-ratelimit-reset"]).toBe("10")
          yield* TestClock.adjust("10 seconds")
          const next = yield* refresh(pair.refresh_token)
          expect(next.status).toBe(200)
          expect(next.headers["x-ratelimit-remaining"]).toBe("1")
          expect((yield* fake.counters).rejected).toBe(1)
        }),
        { rateLimit: { limit: 2, window: "10 seconds", enforce: true } }
      ))
  })

  describe("request log", () => {
    it.effect("never prints a secret; the values stay readable through Redacted", () => {
      const canarySecret = "canary-client-secret-5f1d2c"
      return withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const app = yield* fake.registerApp({ clientSecret: canarySecret })
        const code = Redacted.value(yield* fake.issueCode({ clientId: app.clientId, state: "s" }))
        const fields = { grant_type: "authorization_code", client_id: app.clientId, client_secret: canarySecret }
        const pair = yield* send(tokenRequest({ ...fields, code, state: "s" }, { encoding: "form" })).pipe(
          Effect.flatMap(decode(TokenBody))
        )
        yield* send(tokenRequest({
          grant_type: "refresh_token",
          refresh_token: pair.refresh_token,
          client_id: app.clientId,
          client_secret: canarySecret
        }, { refresh: true, encoding: "multipart" }))
        yield* account(pair.access_token)

        const log = yield* fake.requests
        expect(log.map((r) => r.route)).toEqual(["token", "refresh", "account"])
        const printed = [
          JSON.stringify(log),
          Util.inspect(log, { depth: Infinity }),
          String(log),
          log.map((r) => `${r.body["client_secret"]} ${r.headers["authorization"]}`).join()
        ].join("\n")
        for (const secret of [canarySecret, code, pair.access_token, pair.refresh_token]) {
          expect(printed).not.toContain(secret)
        }
        const [exchanged, refreshed, accountRequest] = log
        const secretOf = (value: unknown) => Redacted.isRedacted(value) ? Redacted.value(value) : undefined
        expect(secretOf(exchanged!.body["client_secret"])).toBe(canarySecret)
        expect(secretOf(exchanged!.body["code"])).toBe(code)
        expect(exchanged!.body["client_id"]).toBe(app.clientId)
        expect(secretOf(refreshed!.body["refresh_token"])).toBe(pair.refresh_token)
        expect(secretOf(accountRequest!.headers["authorization"])).toBe(`Bearer ${pair.access_token}`)
        expect(refreshed!.path).toBe("/oauth/token?refresh")
      }))
    })

    it.effect("counts and resets", () =>
      withFake(Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        yield* authorize("s")
        const pair = yield* tokens()
        yield* refresh(pair.refresh_token)
        yield* account(pair.access_token)
        yield* fake.injectFault("account", Fault.Status({ status: 500 }))
        yield* account(pair.access_token)
        expect(yield* fake.counters).toEqual({
          requests: 5,
          authorizeRequests: 1,
          consentsGranted: 1,
          consentsDenied: 0,
          tokenRequests: 1,
          codesExchanged: 1,
          refreshRequests: 1,
          refreshesServed: 1,
          accountRequests: 2,
          rejected: 0,
          faultsInjected: 1
        })
        yield* fake.resetLog
        expect(yield* fake.requests).toHaveLength(0)
        expect((yield* fake.counters).requests).toBe(0)
      })))

    it.effect("logRequests: false keeps counting without logging", () =>
      withFake(
        Effect.gen(function*() {
          const fake = yield* FakeDropboxSign.FakeDropboxSign
          yield* account()
          expect(yield* fake.requests).toHaveLength(0)
          expect((yield* fake.counters).accountRequests).toBe(1)
        }),
        { logRequests: false }
      ))
  })
})
