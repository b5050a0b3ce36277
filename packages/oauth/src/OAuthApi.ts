/**
 * The two operations of the Dropbox Sign OAuth token API, one-to-one: `oauthTokenGenerate` (`POST /oauth/token`)
 * and `oauthTokenRefresh` (`POST /oauth/token?refresh`). Stateless and typed; retries follow `RetryPolicy`.
 *
 * Two transports, one behaviour: `layer` sends through whatever `HttpClient` the application provides (fetch, the
 * in-memory fake of `@dropbox-sign-effect/testing`, its own client); `layerUndici` talks to an undici `Dispatcher`
 * directly, at about a third of the CPU per request (see the README's Performance section). Both send the same bytes,
 * hold answers to the same limits and fail with the same errors.
 *
 * @since 0.1.0
 */
import { HttpClient } from "@effect/platform"
import type { Scope } from "effect"
import { Context, Effect, Layer } from "effect"
import type { Dispatcher } from "undici"

import * as httpClientTransport from "./internal/httpClientTransport.js"
import * as internal from "./internal/oauthApi.js"
import * as observability from "./internal/observability.js"
import * as undiciTransport from "./internal/undiciTransport.js"
import { OAuthConfig } from "./OAuthConfig.js"
import type { OAuthError } from "./OAuthError.js"
import type { OAuthTokenGenerateRequest, OAuthTokenRefreshRequest, OAuthTokenResponse } from "./OAuthSchema.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly oauthTokenGenerate: (request: OAuthTokenGenerateRequest) => Effect.Effect<OAuthTokenResponse, OAuthError>
  readonly oauthTokenRefresh: (request: OAuthTokenRefreshRequest) => Effect.Effect<OAuthTokenResponse, OAuthError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class OAuthApi extends Context.Tag("@dropbox-sign-effect/oauth/OAuthApi")<OAuthApi, Service>() {}

/**
 * Token requests sent, by operation and outcome (`ok` or the error's tag): tagged `operation` and `outcome`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const requestsTotal = observability.requestsTotal

/**
 * Latency of successful token requests, in milliseconds, retries included: tagged `operation`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const requestDuration = observability.requestDuration

/**
 * Builds the service over an `HttpClient` (the application picks the implementation) and `OAuthConfig`. The
 * per-attempt timeout follows `Clock`, so `TestClock` drives it in tests.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, HttpClient.HttpClient | OAuthConfig> = Effect.gen(function*() {
  const config = yield* OAuthConfig
  const client = yield* HttpClient.HttpClient
  return OAuthApi.of(internal.make(config, httpClientTransport.make(client, internal.settingsOf(config))))
})

/**
 * Options of the undici transport.
 *
 * @since 0.1.0
 * @category models
 */
export interface UndiciOptions {
  /**
   * The dispatcher to send through (an `Agent`, a `Pool`, a `ProxyAgent`, `getGlobalDispatcher()`...); the caller
   * keeps it open and closes it. Default: an `Agent` of the layer's own, closed with it. A dispatcher given here must
   * not follow redirects (undici's `redirect` interceptor would re-send the secrets elsewhere).
   */
  readonly dispatcher?: Dispatcher | undefined
}

/**
 * Builds the service on an undici `Dispatcher`: one `Effect.async` per attempt, interruption aborts the request, and
 * the per-attempt timeout is a timer that aborts it (wall-clock time, like undici's own timeouts; use `make` with the
 * in-memory fake where `TestClock` must drive timeouts). Same bytes on the wire, same limits, same errors as `make`;
 * a timeout that fires before the request was written is `TransportError` `NotSent` here (a generic `HttpClient`
 * cannot tell, so `make` says `Unknown`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeUndici = (
  options: UndiciOptions = {}
): Effect.Effect<Service, never, OAuthConfig | Scope.Scope> =>
  Effect.gen(function*() {
    const config = yield* OAuthConfig
    const dispatcher = options.dispatcher ?? (yield* undiciTransport.ownAgent)
    return OAuthApi.of(internal.make(config, undiciTransport.make(dispatcher, internal.settingsOf(config))))
  })

/**
 * `OAuthApi` over any `HttpClient` in context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<OAuthApi, never, HttpClient.HttpClient | OAuthConfig> = Layer.effect(OAuthApi, make)

/**
 * `OAuthApi` over undici directly, needing no `HttpClient`: the fastest way to the token endpoint on Node.
 *
 * @example
 * import { OAuthApi, OAuthConfig } from "@dropbox-sign-effect/oauth"
 * import { Layer } from "effect"
 *
 * // DROPBOX_SIGN_CLIENT_ID and DROPBOX_SIGN_CLIENT_SECRET from the environment
 * const OAuthApiLive = OAuthApi.layerUndici().pipe(Layer.provide(OAuthConfig.layerConfig()))
 *
 * @since 0.1.0
 * @category layers
 */
export const layerUndici = (options: UndiciOptions = {}): Layer.Layer<OAuthApi, never, OAuthConfig> =>
  Layer.scoped(OAuthApi, makeUndici(options))
