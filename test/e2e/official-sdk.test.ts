/**
 * The official `@dropbox/sign` SDK against `FakeDropboxSign.layerServer`: proof that the fake speaks the same wire as
 * the real client (its JSON bodies, its bare `?refresh` flag, its response decoding). And the SDK beside our
 * `OAuthApi` (both transports) on a capturing loopback server: the same bytes for the same request.
 */
// dprint and simple-import-sort disagree on the order of "@dropbox-sign-effect/…" and "@dropbox/…"; dprint decides.
/* eslint-disable simple-import-sort/imports */
import * as Http from "node:http"

import { OAuthApi, OAuthConfig, OAuthSchema } from "@dropbox-sign-effect/oauth"
import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import * as DropboxSign from "@dropbox/sign"
import { HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it, layer } from "@effect/vitest"
import { Context, Effect, Layer, Redacted, Ref } from "effect"

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

/** A request as it arrived: the raw body bytes and the raw `Content-Type` value. */
interface Capture {
  readonly path: string
  readonly contentType: string | undefined
  readonly body: Uint8Array
}

const fixtureToken = JSON.stringify({
  access_token: "NWNiOTMxOGFkOGVjMDhhNTAxZN2NkNjgxMjMwOWJiYTEzZTBmZGUzMjMThhMzYyMzc=",
  token_type: "Bearer",
  refresh_token: "hNTI2MTFmM2VmZDQxZTZjOWRmZmFjZmVmMGMyNGFjMzI2MGI5YzgzNmE3",
  expires_in: 86400,
  state: "900e06e2"
})

/** A loopback server that records every request's bytes and answers the fixture token. */
const capturing = Effect.gen(function*() {
  const captured = yield* Ref.make<ReadonlyArray<Capture>>([])
  const nodeServer = Http.createServer()
  const server = yield* NodeHttpServer.make(() => nodeServer, { port: 0, host: "127.0.0.1" })
  yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer.closeAllConnections()))
  yield* HttpServer.serveEffect(Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const body = new Uint8Array(yield* Effect.orDie(request.arrayBuffer))
    yield* Ref.update(
      captured,
      (all) => [...all, { path: request.url, contentType: request.headers["content-type"], body }]
    )
    return HttpServerResponse.text(fixtureToken, { contentType: "application/json" })
  })).pipe(Effect.provideService(HttpServer.HttpServer, server))
  const port = server.address._tag === "TcpAddress" ? server.address.port : 0
  return { url: `http://127.0.0.1:${port}`, captured: Ref.get(captured) }
})

// The official fixture values.
const fixture = {
  clientId: "cc91c61d00f8bb2ece1428035716b",
  clientSecret: "1d14434088507ffa390e6f5528465",
  code: "1b0d28d90c86c141",
  state: "900e06e2",
  refreshToken: "hNTI2MTFmM2VmZDQxZTZjOWRmZmFjZmVmMGMyNGFjMzI2MGI5YzgzNmE3"
}

const viaSdk = (url: string) =>
  Effect.promise(async () => {
    const api = oauthApi(url)
    const generate = new DropboxSign.OAuthTokenGenerateRequest()
    generate.clientId = fixture.clientId
    generate.clientSecret = fixture.clientSecret
    generate.code = fixture.code
    generate.state = fixture.state
    generate.grantType = "authorization_code"
    await api.oauthTokenGenerate(generate)
    const refresh = new DropboxSign.OAuthTokenRefreshRequest()
    refresh.grantType = "refresh_token"
    refresh.refreshToken = fixture.refreshToken
    refresh.clientId = fixture.clientId
    refresh.clientSecret = fixture.clientSecret
    await api.oauthTokenRefresh(refresh)
  })

const viaOurs = (api: OAuthApi.Service) =>
  Effect.gen(function*() {
    yield* api.oauthTokenGenerate(
      new OAuthSchema.OAuthTokenGenerateRequest({
        clientId: fixture.clientId,
        clientSecret: Redacted.make(fixture.clientSecret),
        code: Redacted.make(fixture.code),
        state: fixture.state
      })
    )
    yield* api.oauthTokenRefresh(
      new OAuthSchema.OAuthTokenRefreshRequest({
        refreshToken: Redacted.make(fixture.refreshToken),
        clientId: fixture.clientId,
        clientSecret: Redacted.make(fixture.clientSecret)
      })
    )
  })

const ours = {
  "generic HttpClient (undici)": (url: string) =>
    OAuthApi.layer.pipe(Layer.provide(NodeHttpClient.layerUndici), Layer.provide(configAt(url))),
  "lean undici": (url: string) => OAuthApi.layerUndici().pipe(Layer.provide(configAt(url)))
}

function configAt(url: string) {
  return OAuthConfig.layer({
    clientId: fixture.clientId,
    clientSecret: Redacted.make(fixture.clientSecret),
    oauthUrl: url
  })
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

describe("the same bytes as the official @dropbox/sign SDK", () => {
  for (const [name, apiLayer] of Object.entries(ours)) {
    it.live(`${name}: both bodies and their Content-Type, byte for byte`, () =>
      Effect.scoped(Effect.gen(function*() {
        const sdkServer = yield* capturing
        yield* viaSdk(sdkServer.url)
        const ourServer = yield* capturing
        const api = Context.get(yield* Layer.build(apiLayer(ourServer.url)), OAuthApi.OAuthApi)
        yield* viaOurs(api)
        const sdk = yield* sdkServer.captured
        const mine = yield* ourServer.captured
        expect(mine.map((c) => c.path)).toStrictEqual(["/oauth/token", "/oauth/token?refresh"])
        expect(mine.map((c) => c.path)).toStrictEqual(sdk.map((c) => c.path))
        expect(mine.map((c) => c.contentType)).toStrictEqual(sdk.map((c) => c.contentType))
        expect(mine.map((c) => Buffer.from(c.body).toString("hex"))).toStrictEqual(
          sdk.map((c) => Buffer.from(c.body).toString("hex"))
        )
        // Spelled out, so that a failure shows what differs.
        expect(text(mine[0].body)).toBe(
          `{"client_id":"${fixture.clientId}","client_secret":"${fixture.clientSecret}","code":"${fixture.code}",` +
            `"grant_type":"authorization_code","state":"${fixture.state}"}`
        )
        expect(text(sdk[1].body)).toBe(
          `{"grant_type":"refresh_token","refresh_token":"${fixture.refreshToken}",` +
            `"client_id":"${fixture.clientId}","client_secret":"${fixture.clientSecret}"}`
        )
      })))
  }
})
