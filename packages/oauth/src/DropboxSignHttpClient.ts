/**
 * An `HttpClient` for the Dropbox Sign API (`https://api.hellosign.com/v3`) that authenticates every request with a
 * valid access token from `TokenManager`. On a 401 it refreshes the token once and retries the request once.
 *
 * @since 0.1.0
 */
import type { HttpClientResponse } from "@effect/platform"
import { HttpClient, HttpClientError, HttpClientRequest } from "@effect/platform"
import { Context, Effect, Inspectable, Layer, Predicate } from "effect"

import * as AccountId from "./AccountId.js"
import { versionedAccess } from "./internal/tokenManager.js"
import { OAuthConfig } from "./OAuthConfig.js"
import type { TokenError } from "./TokenError.js"
import { TokenManager } from "./TokenManager.js"
import type { StoredToken } from "./TokenStore.js"

/**
 * A client for one account. Paths are relative to the API base URL: `client.get("/account")`.
 *
 * @since 0.1.0
 * @category models
 */
export type AccountClient = HttpClient.HttpClient.With<HttpClientError.HttpClientError | TokenError>

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The client acting as `account` (default: `AccountId.defaultAccount`). */
  readonly forAccount: (account?: AccountId.AccountId) => AccountClient
}

/**
 * @since 0.1.0
 * @category tags
 */
export class DropboxSignHttpClient
  extends Context.Tag("@dropbox-sign-effect/oauth/DropboxSignHttpClient")<DropboxSignHttpClient, Service>()
{}

/**
 * The response as the caller sees it: its `request` is the caller's, without the `Authorization` header this client
 * added, so that printing a response (`JSON.stringify`, `util.inspect`, an error reporter) never shows the bearer
 * token. Everything else is the platform's response, reached through the prototype.
 */
const withCallerRequest = (
  response: HttpClientResponse.HttpClientResponse,
  request: HttpClientRequest.HttpClientRequest
): HttpClientResponse.HttpClientResponse => {
  const toJSON = () => {
    const json = response.toJSON()
    return Predicate.isRecord(json) ? { ...json, request: request.toJSON() } : json
  }
  return Object.create(response, {
    request: { value: request, enumerable: true },
    toJSON: { value: toJSON },
    toString: { value: () => Inspectable.format(toJSON()) },
    [Inspectable.NodeInspectSymbol]: { value: toJSON }
  })
}

/** The platform's errors carry the request that was sent; give them the caller's, without the bearer token. */
const withoutCredentials =
  (request: HttpClientRequest.HttpClientRequest) =>
  (error: HttpClientError.HttpClientError): HttpClientError.HttpClientError =>
    error._tag === "RequestError" ?
      new HttpClientError.RequestError({
        request,
        reason: error.reason,
        cause: error.cause,
        ...(error.description === undefined ? {} : { description: error.description })
      }) :
      new HttpClientError.ResponseError({
        request,
        response: withCallerRequest(error.response, request),
        reason: error.reason,
        cause: error.cause,
        ...(error.description === undefined ? {} : { description: error.description })
      })

/**
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, HttpClient.HttpClient | TokenManager | OAuthConfig> = Effect.gen(
  function*() {
    const config = yield* OAuthConfig
    const manager = versionedAccess(yield* TokenManager)
    const base = (yield* HttpClient.HttpClient).pipe(
      HttpClient.mapRequest(HttpClientRequest.prependUrl(config.apiUrl))
    )

    const shown = HttpClientRequest.prependUrl(config.apiUrl)
    const send = (request: HttpClientRequest.HttpClientRequest, stored: StoredToken) =>
      base.execute(HttpClientRequest.bearerToken(request, stored.token.accessToken)).pipe(
        Effect.map((response) => withCallerRequest(response, shown(request))),
        Effect.mapError(withoutCredentials(shown(request)))
      )

    const forAccount = (account: AccountId.AccountId = AccountId.defaultAccount): AccountClient =>
      HttpClient.makeWith(
        (requestEffect: Effect.Effect<HttpClientRequest.HttpClientRequest>) =>
          Effect.gen(function*() {
            const request = yield* requestEffect
            const stored = yield* manager.current(account)
            const response = yield* send(request, stored)
            // A streamed body cannot be sent twice: its 401 is returned as it is.
            if (response.status !== 401 || request.body._tag === "Stream") return response
            // Read out before the retry: an unread body keeps its connection busy until it is collected.
            yield* Effect.ignore(response.arrayBuffer)
            const renewed = yield* manager.refreshIfStale(account, stored.version)
            const retried = yield* send(request, renewed)
            if (retried.status !== 401) return retried
            return yield* Effect.fail(
              new HttpClientError.ResponseError({
                request,
                response: retried,
                reason: "StatusCode",
                description: "401 Unauthorized again after refreshing the access token"
              })
            )
          }).pipe(
            Effect.withSpan("DropboxSignHttpClient.request", { attributes: { "dropbox_sign.account": account } })
          ),
        Effect.succeed
      )

    return DropboxSignHttpClient.of({ forAccount })
  }
)

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<DropboxSignHttpClient, never, HttpClient.HttpClient | TokenManager | OAuthConfig> =
  Layer.effect(DropboxSignHttpClient, make)
