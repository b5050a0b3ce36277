/**
 * Our own `OAuthApi` against the fake: over loopback with both transports (the generic one over the platform's undici
 * client, and the lean undici one; the same wire the official SDK test proves), and in memory with the library's
 * default base URLs.
 */
import { OAuthApi, OAuthConfig, OAuthSchema } from "@dropbox-sign-effect/oauth"
import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it, layer } from "@effect/vitest"
import type { ConfigError } from "effect"
import { Effect, Layer, Redacted } from "effect"

const { defaultApp } = FakeDropboxSign

const configFor = (urls: { readonly oauthUrl?: string; readonly apiUrl?: string }) =>
  OAuthConfig.layer({ clientId: defaultApp.clientId, clientSecret: defaultApp.clientSecret, ...urls })

const flow = Effect.gen(function*() {
  const fake = yield* FakeDropboxSign.FakeDropboxSign
  const api = yield* OAuthApi.OAuthApi
  const code = yield* fake.issueCode({ state: "900e06e2" })
  const generated = yield* api.oauthTokenGenerate(
    new OAuthSchema.OAuthTokenGenerateRequest({
      clientId: defaultApp.clientId,
      clientSecret: defaultApp.clientSecret,
      code,
      state: "900e06e2"
    })
  )
  expect(generated.tokenType).toBe("Bearer")
  expect(generated.expiresIn).toBe(3600)
  expect(generated.state).toBe("900e06e2")
  const refreshed = yield* api.oauthTokenRefresh(
    new OAuthSchema.OAuthTokenRefreshRequest({
      refreshToken: generated.refreshToken!,
      clientId: defaultApp.clientId,
      clientSecret: defaultApp.clientSecret
    })
  )
  expect(Redacted.value(refreshed.accessToken)).not.toBe(Redacted.value(generated.accessToken))
  const reused = yield* Effect.flip(api.oauthTokenGenerate(
    new OAuthSchema.OAuthTokenGenerateRequest({
      clientId: defaultApp.clientId,
      clientSecret: defaultApp.clientSecret,
      code,
      state: "900e06e2"
    })
  ))
  expect(reused).toMatchObject({ _tag: "OAuthApiError", status: 400, errorName: "invalid_grant" })
  expect(yield* fake.counters).toMatchObject({ codesExchanged: 1, refreshesServed: 1 })
})

describe("OAuthApi against FakeDropboxSign", () => {
  const overLoopback = (
    api: (config: Layer.Layer<OAuthConfig.OAuthConfig, ConfigError.ConfigError>) => Layer.Layer<OAuthApi.OAuthApi>
  ) =>
    Layer.unwrapEffect(
      Effect.map(FakeDropboxSign.FakeDropboxSignServer, (server) =>
        api(configFor({ oauthUrl: server.oauthUrl, apiUrl: server.apiUrl })))
    ).pipe(Layer.provideMerge(FakeDropboxSign.layerServer()))

  layer(
    overLoopback((config) =>
      OAuthApi.layer.pipe(Layer.provide(config), Layer.provide(NodeHttpClient.layerUndici), Layer.orDie)
    ),
    { excludeTestServices: true }
  )("over loopback, generic transport on NodeHttpClient.layerUndici", (it) => {
    it.effect("generates, refreshes and reports a used code", () => flow)
  })

  layer(
    overLoopback((config) => OAuthApi.layerUndici().pipe(Layer.provide(config), Layer.orDie)),
    { excludeTestServices: true }
  )("over loopback, lean undici transport (OAuthApi.layerUndici)", (it) => {
    it.effect("generates, refreshes and reports a used code", () => flow)
  })

  it.effect("in memory, with the default base URLs", () =>
    flow.pipe(
      Effect.provide(
        OAuthApi.layer.pipe(Layer.provide(configFor({}))).pipe(
          Layer.provideMerge(FakeDropboxSign.layerClient)
        )
      )
    ))
})
