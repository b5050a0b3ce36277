import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import { HttpClientRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Redacted, TestClock } from "effect"

import { decode, exchangeFields, oauthUrl, send, TokenBody, tokenRequest } from "./utils/http.js"
import { errorName, exchange, RfcErrorBody, withFake } from "./utils/inMemory.js"

const { defaultApp } = FakeDropboxSign

describe("FakeDropboxSign code exchange (in-memory client)", () => {
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
      const badSecret = yield* send(tokenRequest(oauthUrl, exchangeFields(code, "s", { client_secret: "wrong" })))
      expect(badSecret.status).toBe(401)
      expect(yield* errorName(badSecret)).toMatchObject({ error_name: "unauthorized", error_path: "client_secret" })

      const badState = yield* exchange(code, "other")
      expect(yield* errorName(badState)).toMatchObject({ error_name: "invalid_grant", error_path: "state" })

      const badGrant = yield* send(tokenRequest(oauthUrl, exchangeFields(code, "s", { grant_type: "password" })))
      expect(yield* errorName(badGrant)).toMatchObject({ error_name: "bad_request", error_path: "grant_type" })

      const other = yield* fake.registerApp()
      const wrongClient = yield* send(tokenRequest(
        oauthUrl,
        exchangeFields(code, "s", {
          client_id: other.clientId,
          client_secret: Redacted.value(other.clientSecret)
        })
      ))
      expect(yield* errorName(wrongClient)).toMatchObject({ error_name: "invalid_grant", error_path: "code" })

      const missing = yield* send(
        tokenRequest(oauthUrl, { grant_type: "authorization_code", client_id: defaultApp.clientId })
      )
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
      const client = yield* send(tokenRequest(oauthUrl, exchangeFields("c", "s", { client_secret: "wrong" })))
      expect(client.status).toBe(401)
      expect(yield* decode(RfcErrorBody)(client)).toMatchObject({ error: "invalid_client" })
      const grantType = yield* send(tokenRequest(oauthUrl, exchangeFields("c", "s", { grant_type: "implicit" })))
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
