/**
 * The OAuth flow with the application's credentials: the authorize URL, the code exchange and the refresh, in terms of
 * domain `OAuthToken`s stamped with `Clock` time.
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import { Context, DateTime, Effect, Layer, Option, Redacted } from "effect"

import { layer as apiLayer, OAuthApi } from "./OAuthApi.js"
import { OAuthConfig } from "./OAuthConfig.js"
import type { OAuthError } from "./OAuthError.js"
import { ResponseDecodeError } from "./OAuthError.js"
import { OAuthTokenGenerateRequest, OAuthTokenRefreshRequest, type OAuthTokenResponse } from "./OAuthSchema.js"
import * as OAuthToken from "./OAuthToken.js"

/**
 * What the application received on its callback URL. The code may be given plain or already `Redacted`.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallbackParams {
  readonly code: string | Redacted.Redacted<string>
  readonly state: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** `https://app.hellosign.com/oauth/authorize?response_type=code&client_id=…&state=…` for this application. */
  readonly authorizeUrl: (options: { readonly state: string }) => string
  /** Exchanges an authorization code (single-use: never re-sent after an outcome-unknown failure). */
  readonly exchangeCode: (callback: CallbackParams) => Effect.Effect<OAuthToken.OAuthToken, OAuthError>
  /** Renews a token; when the response carries no refresh token, the one given stays in the result. */
  readonly refresh: (refreshToken: Redacted.Redacted<string>) => Effect.Effect<OAuthToken.OAuthToken, OAuthError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class OAuthClient extends Context.Tag("@dropbox-sign-effect/oauth/OAuthClient")<OAuthClient, Service>() {}

const missingRefreshToken = (response: OAuthTokenResponse) =>
  new ResponseDecodeError({
    status: 200,
    description: "refresh_token is missing",
    body: Redacted.make(`{"token_type":${JSON.stringify(response.tokenType)},"expires_in":${response.expiresIn}}`)
  })

const toToken = (response: OAuthTokenResponse, previous?: Redacted.Redacted<string>) =>
  Effect.flatMap(DateTime.now, (now) =>
    Option.match(OAuthToken.fromResponse(response, now, previous), {
      onNone: () => Effect.fail(missingRefreshToken(response)),
      onSome: Effect.succeed
    }))

/**
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, OAuthApi | OAuthConfig> = Effect.gen(function*() {
  const api = yield* OAuthApi
  const config = yield* OAuthConfig

  const authorizeUrl = (options: { readonly state: string }) => {
    const url = new URL(`${config.oauthUrl}/oauth/authorize`)
    url.searchParams.set("response_type", "code")
    url.searchParams.set("client_id", config.clientId)
    url.searchParams.set("state", options.state)
    return url.href
  }

  const exchangeCode = (callback: CallbackParams) =>
    api.oauthTokenGenerate(
      new OAuthTokenGenerateRequest({
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        code: Redacted.isRedacted(callback.code) ? callback.code : Redacted.make(callback.code),
        state: callback.state
      })
    ).pipe(Effect.flatMap((response) => toToken(response)), Effect.withSpan("OAuthClient.exchangeCode"))

  const refresh = (refreshToken: Redacted.Redacted<string>) =>
    api.oauthTokenRefresh(
      new OAuthTokenRefreshRequest(
        config.sendClientCredentialsOnRefresh ?
          { refreshToken, clientId: config.clientId, clientSecret: config.clientSecret } :
          { refreshToken }
      )
    ).pipe(Effect.flatMap((response) => toToken(response, refreshToken)), Effect.withSpan("OAuthClient.refresh"))

  return OAuthClient.of({ authorizeUrl, exchangeCode, refresh })
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<OAuthClient, never, OAuthApi | OAuthConfig> = Layer.effect(OAuthClient, make)

/**
 * `OAuthClient` with its `OAuthApi`, given an `HttpClient` and `OAuthConfig`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithApi: Layer.Layer<OAuthClient | OAuthApi, never, HttpClient.HttpClient | OAuthConfig> = Layer
  .provideMerge(layer, apiLayer)
