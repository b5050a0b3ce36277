import { OAuthClient, OAuthConfig, OAuthState } from "@dropbox-sign-effect/oauth"
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Duration, Effect, Either, Layer, Redacted, TestClock } from "effect"

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
    const client = yield* OAuthClient.make.pipe(
      Effect.provide(OAuthClient.layerWithApi.pipe(Layer.provide(Layer.merge(mock.layer, config)), Layer.merge(config)))
    )
    return { client, requests: mock.requests }
  })

describe("OAuthClient", () => {
  it.effect("authorizeUrl is exactly the Dropbox Sign authorize URL, encoded", () =>
    Effect.gen(function*() {
      const { client } = yield* setup([])
      expect(client.authorizeUrl({ state: fixtures.state })).toBe(
        `https://app.hellosign.com/oauth/authorize?response_type=code&client_id=${fixtures.clientId}&state=${fixtures.state}`
      )
      expect(client.authorizeUrl({ state: "a b&c=d/é" })).toBe(
        `https://app.hellosign.com/oauth/authorize?response_type=code&client_id=${fixtures.clientId}&state=a+b%26c%3Dd%2F%C3%A9`
      )
    }))

  it.effect("exchangeCode returns a token stamped with Clock time", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 0, 1))
      const { client, requests } = yield* setup([MockHttp.json(200, tokenResponseJson)])
      const token = yield* client.exchangeCode({ code: fixtures.code, state: fixtures.state })
      expect(Redacted.value(token.accessToken)).toBe(fixtures.accessToken)
      expect(Redacted.value(token.refreshToken)).toBe(fixtures.refreshToken)
      expect(DateTime.formatIso(token.issuedAt)).toBe("2026-01-01T00:00:00.000Z")
      expect(DateTime.formatIso(token.expiresAt)).toBe("2026-01-02T00:00:00.000Z")
      expect(Duration.toSeconds(token.lifetime)).toBe(86400)
      const [request] = yield* requests
      expect(JSON.parse(request.body).code).toBe(fixtures.code)
    }))

  it.effect("exchangeCode fails with ResponseDecodeError when no refresh token is issued", () =>
    Effect.gen(function*() {
      const { refresh_token: _, ...withoutRefresh } = tokenResponseJson
      const { client } = yield* setup([MockHttp.json(200, withoutRefresh)])
      const error = yield* Effect.flip(client.exchangeCode({ code: fixtures.code, state: fixtures.state }))
      expect(error).toMatchObject({ _tag: "ResponseDecodeError", description: "refresh_token is missing" })
    }))

  it.effect("refresh keeps the given refresh token when the response omits one, and stores a rotated one", () =>
    Effect.gen(function*() {
      const { refresh_token: _, ...withoutRefresh } = tokenResponseJson
      const { client } = yield* setup([
        MockHttp.json(200, withoutRefresh),
        MockHttp.json(200, { ...tokenResponseJson, refresh_token: "rotated-refresh-token" })
      ])
      const kept = yield* client.refresh(Redacted.make("old-refresh-token"))
      expect(Redacted.value(kept.refreshToken)).toBe("old-refresh-token")
      const rotated = yield* client.refresh(Redacted.make("old-refresh-token"))
      expect(Redacted.value(rotated.refreshToken)).toBe("rotated-refresh-token")
    }))

  it.effect("refresh sends the client credentials by default and can be told not to", () =>
    Effect.gen(function*() {
      const withCredentials = yield* setup([MockHttp.json(200, tokenResponseJson)])
      yield* withCredentials.client.refresh(Redacted.make(fixtures.refreshToken))
      const [sent] = yield* withCredentials.requests
      expect(JSON.parse(sent.body)).toMatchObject({
        client_id: fixtures.clientId,
        client_secret: fixtures.clientSecret
      })

      const without = yield* setup([MockHttp.json(200, tokenResponseJson)], { sendClientCredentialsOnRefresh: false })
      yield* without.client.refresh(Redacted.make(fixtures.refreshToken))
      const [bare] = yield* without.requests
      expect(JSON.parse(bare.body)).toStrictEqual({ grant_type: "refresh_token", refresh_token: fixtures.refreshToken })
    }))
})

describe("OAuthState", () => {
  it.effect("make gives 32 random bytes, base64url", () =>
    Effect.gen(function*() {
      const a = yield* OAuthState.make
      const b = yield* OAuthState.make
      expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(Buffer.from(a, "base64url").length).toBe(32)
      expect(a).not.toBe(b)
    }))

  it("verify accepts only the identical state", () => {
    const state = "k3J9xQ"
    expect(OAuthState.verify(state, state)).toBe(true)
    for (const other of ["k3J9xq", "k3J9x", "k3J9xQ ", "", " k3J9xQ", "K3J9xQ"]) {
      expect(OAuthState.verify(state, other)).toBe(false)
    }
    expect(OAuthState.verify("", "")).toBe(false)
  })

  const base = "http://127.0.0.1:8765/callback"

  it("parseCallback gives the code (redacted) and state", () => {
    const result = OAuthState.parseCallback(`${base}?code=${fixtures.code}&state=${fixtures.state}`, fixtures.state)
    expect(Either.isRight(result)).toBe(true)
    if (Either.isRight(result)) {
      expect(Redacted.value(result.right.code)).toBe(fixtures.code)
      expect(result.right.state).toBe(fixtures.state)
      expect(String(result.right.code)).not.toContain(fixtures.code)
    }
  })

  it("parseCallback: error=access_denied is AuthorizationDeniedError", () => {
    const result = OAuthState.parseCallback(`${base}?error=access_denied&state=${fixtures.state}`, fixtures.state)
    expect(Either.getLeft(result)).toMatchObject({
      _tag: "Some",
      value: { _tag: "AuthorizationDeniedError", error: "access_denied" }
    })
  })

  it("parseCallback: a missing code is InvalidCallbackError", () => {
    const result = OAuthState.parseCallback(`${base}?state=${fixtures.state}`, fixtures.state)
    expect(Either.getLeft(result)).toMatchObject({
      _tag: "Some",
      value: { _tag: "InvalidCallbackError", reason: "code is missing" }
    })
  })

  it("parseCallback: a missing state is InvalidCallbackError", () => {
    const result = OAuthState.parseCallback(`${base}?code=${fixtures.code}`, fixtures.state)
    expect(Either.getLeft(result)).toMatchObject({
      _tag: "Some",
      value: { _tag: "InvalidCallbackError", reason: "state is missing" }
    })
  })

  it("parseCallback: a mismatched state is StateMismatchError (and the code is not returned)", () => {
    for (const received of ["900e06e3", "900e06e", "900e06e2x", "x"]) {
      const result = OAuthState.parseCallback(`${base}?code=${fixtures.code}&state=${received}`, fixtures.state)
      expect(Either.getLeft(result)).toMatchObject({ _tag: "Some", value: { _tag: "StateMismatchError" } })
    }
  })

  it("parseCallback: a forged denial with the wrong state is a StateMismatchError", () => {
    const result = OAuthState.parseCallback(`${base}?error=access_denied&state=forged`, fixtures.state)
    expect(Either.getLeft(result)).toMatchObject({ _tag: "Some", value: { _tag: "StateMismatchError" } })
  })
})
