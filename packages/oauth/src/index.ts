/**
 * The Dropbox Sign OAuth token API for Effect: the wire API (`OAuthApi`), the client (`OAuthClient`), token
 * lifecycle (`TokenManager`), stores (`TokenStore`) and an authenticated API client (`DropboxSignHttpClient`).
 *
 * @since 0.1.0
 */

/**
 * Identifies a connected Dropbox Sign account within the application.
 *
 * @since 0.1.0
 */
export * as AccountId from "./AccountId.js"

/**
 * "Connect Dropbox Sign" in a web application: routes for an `@effect/platform` HTTP server that start an
 * authorization (`/connect`), complete it for the account the application names (`/callback`) and forget it
 * (`/disconnect`), with the state bound to the browser in a sealed cookie.
 *
 * @since 0.1.0
 */
export * as AuthorizationRoutes from "./AuthorizationRoutes.js"

/**
 * An `HttpClient` for the Dropbox Sign API (`https://api.hellosign.com/v3`) that authenticates every request with a
 * valid access token from `TokenManager`. On a 401 it refreshes the token once and retries the request once.
 *
 * @since 0.1.0
 * @example
 * ```ts
 * import { AccountId, DropboxSignHttpClient } from "@dropbox-sign-effect/oauth"
 * import { Effect } from "effect"
 *
 * // GET https://api.hellosign.com/v3/account as "alice", with a valid token (refreshed once on a 401).
 * const account = Effect.gen(function*() {
 *   const http = (yield* DropboxSignHttpClient.DropboxSignHttpClient).forAccount(AccountId.make("alice"))
 *   const response = yield* http.get("/account")
 *   return yield* response.json
 * })
 * ```
 */
export * as DropboxSignHttpClient from "./DropboxSignHttpClient.js"

/**
 * The two operations of the Dropbox Sign OAuth token API, one-to-one: `oauthTokenGenerate` (`POST /oauth/token`)
 * and `oauthTokenRefresh` (`POST /oauth/token?refresh`). Stateless and typed; retries follow `RetryPolicy`.
 *
 * @since 0.1.0
 */
export * as OAuthApi from "./OAuthApi.js"

/**
 * The OAuth flow with the application's credentials: the authorize URL, the code exchange and the refresh, in terms of
 * domain `OAuthToken`s stamped with `Clock` time.
 *
 * @since 0.1.0
 * @example
 * ```ts
 * import { OAuthClient, OAuthConfig, OAuthState } from "@dropbox-sign-effect/oauth"
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer, Redacted } from "effect"
 *
 * const ClientLive = OAuthClient.layerWithApi.pipe(
 *   Layer.provide(OAuthConfig.layer({ clientId: "my-client-id", clientSecret: Redacted.make("my-client-secret") })),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 *
 * // Where to send the user: keep the state in their session and compare it on the callback.
 * const connect = Effect.gen(function*() {
 *   const state = yield* OAuthState.make
 *   const url = (yield* OAuthClient.OAuthClient).authorizeUrl({ state })
 *   return { state, url }
 * }).pipe(Effect.provide(ClientLive))
 * ```
 */
export * as OAuthClient from "./OAuthClient.js"

/**
 * Configuration of the OAuth client: credentials, endpoints and policies, from code or from the environment.
 *
 * @since 0.1.0
 */
export * as OAuthConfig from "./OAuthConfig.js"

/**
 * The closed family of errors the OAuth token endpoint can produce. Each carries only what a caller acts on; raw
 * bodies are kept `Redacted` so that no token can leak through a log of the error.
 *
 * @since 0.1.0
 */
export * as OAuthError from "./OAuthError.js"

/**
 * Wire shapes of the Dropbox Sign OAuth token endpoint: camelCase fields mapped to the snake_case keys on the wire.
 *
 * @since 0.1.0
 */
export * as OAuthSchema from "./OAuthSchema.js"

/**
 * The `state` parameter of the authorization step: made unguessable, compared in constant time, and checked on the
 * callback before any code is exchanged.
 *
 * @since 0.1.0
 */
export * as OAuthState from "./OAuthState.js"

/**
 * The domain token: what an application keeps per account. Encodable with Schema for storage.
 *
 * @since 0.1.0
 */
export * as OAuthToken from "./OAuthToken.js"

/**
 * When and how the token operations retry. The *backoff* is a replaceable `Schedule`; *which* failures are retried
 * is fixed by safety: an authorization code is single-use, so a request is retried only when it certainly did not
 * take effect on the server.
 *
 * @since 0.1.0
 */
export * as RetryPolicy from "./RetryPolicy.js"

/**
 * Encryption at rest for stored tokens: AES-256-GCM through `node:crypto`, with the key read from `Config.redacted`.
 *
 * @since 0.1.0
 */
export * as TokenCipher from "./TokenCipher.js"

/**
 * Errors of the token lifecycle: authorization callbacks, the token manager and token stores.
 *
 * @since 0.1.0
 */
export * as TokenError from "./TokenError.js"

/**
 * What happens to an account's tokens, as events for dashboards and alerts. Events carry no secret: only accounts,
 * instants, versions and error descriptions.
 *
 * @since 0.1.0
 */
export * as TokenEvent from "./TokenEvent.js"

/**
 * Keeps every account's access token valid: one refresh however many callers ask, refreshes ahead of expiry in the
 * background, rotated refresh tokens stored before use, and a clear signal when a user must authorize again.
 *
 * @since 0.1.0
 * @example
 * ```ts
 * import { AccountId, OAuthConfig, TokenManager, TokenStore } from "@dropbox-sign-effect/oauth"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 *
 * // The manager, its OAuth client and a store; DROPBOX_SIGN_CLIENT_ID and DROPBOX_SIGN_CLIENT_SECRET from the environment.
 * const TokensLive = TokenManager.layerWithClient().pipe(
 *   Layer.provideMerge(TokenStore.layerMemory),
 *   Layer.provideMerge(OAuthConfig.layerConfig()),
 *   Layer.provide(NodeHttpClient.layerUndici)
 * )
 *
 * // A valid access token for the account, refreshed when due; concurrent callers share one refresh.
 * const accessToken = Effect.flatMap(TokenManager.TokenManager, (tokens) => tokens.accessToken(AccountId.make("alice")))
 *   .pipe(Effect.provide(TokensLive))
 * ```
 */
export * as TokenManager from "./TokenManager.js"

/**
 * Where tokens live: one entry per account, written with compare-and-set so that a stale writer can never replace a
 * newer refresh token.
 *
 * @since 0.1.0
 */
export * as TokenStore from "./TokenStore.js"

/**
 * What every token store is built from, for whoever writes one: the stored form of an entry, the compare-and-set rule,
 * per-account locks within a process, the choice of cipher and the spans.
 *
 * @since 0.1.0
 */
export * as TokenStoreKit from "./TokenStoreKit.js"
