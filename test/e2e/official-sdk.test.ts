/**
 * The official `@dropbox/sign` SDK against `FakeDropboxSign.layerServer`: proof that the fake speaks the same wire as
 * the real client (its JSON bodies, its bare `?refresh` flag, its response decoding).
 */
// dprint and simple-import-sort disagree on the order of "@dropbox-sign-effect/…" and "@dropbox/…"; dprint decides.
/* eslint-disable simple-import-sort/imports */
import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import * as DropboxSign from "@dropbox/sign"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Redacted } from "effect"

const { defaultApp } = FakeDropboxSign
const clientId = defaultApp.clientId
const clientSecret = Redacted.value(defaultApp.clientSecret)

const oauthApi = (basePath: string) => {
  const api = new DropboxSign.OAuthApi()
  api.basePath = basePath
  return api
}

const generateRequest = (code: string, state: string) => {
  const request = new DropboxSign.OAuthTokenGenerateRequest()
  request.clientId = clientId
  request.clientSecret = clientSecret
  request.code = code
  request.state = state
  request.grantType = "authorization_code"
  return request
}

const refreshRequest = (refreshToken: string) => {
  const request = new DropboxSign.OAuthTokenRefreshRequest()
  request.grantType = "refresh_token"
  request.refreshToken = refreshToken
  request.clientId = clientId
  request.clientSecret = clientSecret
  return request
}

describe("official @dropbox/sign SDK against FakeDropboxSign.layerServer", () => {
  layer(FakeDropboxSign.layerServer(), { excludeTestServices: true })((it) => {
    it.effect("oauthTokenGenerate, oauthTokenRefresh and accountGet complete", () =>
      Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const server = yield* FakeDropboxSign.FakeDropboxSignServer
        const api = oauthApi(server.oauthUrl)
        const code = Redacted.value(yield* fake.issueCode({ state: "900e06e2" }))

        const generated = yield* Effect.promise(() => api.oauthTokenGenerate(generateRequest(code, "900e06e2")))
        expect(generated.response.status).toBe(200)
        const token = generated.body
        expect(token.tokenType).toBe("Bearer")
        expect(token.expiresIn).toBe(3600)
        expect(token.state).toBe("900e06e2")
        expect(token.accessToken).toEqual(expect.any(String))
        expect(token.refreshToken).toEqual(expect.any(String))

        const refreshed = yield* Effect.promise(() => api.oauthTokenRefresh(refreshRequest(token.refreshToken!)))
        expect(refreshed.body.tokenType).toBe("Bearer")
        expect(refreshed.body.accessToken).not.toBe(token.accessToken)
        expect(refreshed.body.refreshToken).toBe(token.refreshToken)

        const account = new DropboxSign.AccountApi()
        account.basePath = server.apiUrl
        account.accessToken = refreshed.body.accessToken!
        const me = yield* Effect.promise(() => account.accountGet())
        expect(me.body.account?.accountId).toBe(FakeDropboxSign.defaultAccount.accountId)
        expect(me.body.account?.emailAddress).toBe(FakeDropboxSign.defaultAccount.emailAddress)

        const log = (yield* fake.requests).slice(-3)
        expect(log.map((r) => [r.route, r.path, r.contentType])).toEqual([
          ["token", "/oauth/token", "application/json"],
          ["refresh", "/oauth/token?refresh", "application/json"],
          // The SDK labels even its GETs as JSON.
          ["account", "/v3/account", "application/json"]
        ])
      }))

    it.effect("decodes the fake's errors as ErrorResponse", () =>
      Effect.gen(function*() {
        const server = yield* FakeDropboxSign.FakeDropboxSignServer
        const api = oauthApi(server.oauthUrl)
        const error = yield* Effect.promise(() =>
          api.oauthTokenGenerate(generateRequest("not-a-code", "s")).then(
            () => undefined,
            (e: unknown) => e
          )
        )
        expect(error).toBeInstanceOf(DropboxSign.HttpError)
        if (!(error instanceof DropboxSign.HttpError)) return
        expect(error.statusCode).toBe(400)
        expect(error.body.error.errorName).toBe("invalid_grant")
        expect(error.body.error.errorPath).toBe("code")
      }))

    it.effect("a rotated refresh token is rejected through the SDK", () =>
      Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const server = yield* FakeDropboxSign.FakeDropboxSignServer
        const app = yield* fake.registerApp({ rotateRefreshTokens: true })
        const api = oauthApi(server.oauthUrl)
        const code = Redacted.value(yield* fake.issueCode({ clientId: app.clientId, state: "r" }))
        const request = generateRequest(code, "r")
        request.clientId = app.clientId
        request.clientSecret = Redacted.value(app.clientSecret)
        const first = (yield* Effect.promise(() => api.oauthTokenGenerate(request))).body
        const refresh = (refreshToken: string) => {
          const r = refreshRequest(refreshToken)
          r.clientId = app.clientId
          r.clientSecret = Redacted.value(app.clientSecret)
          return api.oauthTokenRefresh(r)
        }
        const second = (yield* Effect.promise(() => refresh(first.refreshToken!))).body
        expect(second.refreshToken).not.toBe(first.refreshToken)
        const rejected = yield* Effect.promise(() =>
          refresh(first.refreshToken!).then(() => undefined, (e: unknown) => e)
        )
        expect(rejected).toBeInstanceOf(DropboxSign.HttpError)
      }))
  })
})
