/**
 * The two operations of the Dropbox Sign OAuth token API, one-to-one: `oauthTokenGenerate` (`POST /oauth/token`)
 * and `oauthTokenRefresh` (`POST /oauth/token?refresh`). Stateless and typed; retries follow `RetryPolicy`.
 *
 * @since 0.1.0
 */
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { Context, Effect, Layer, Metric, Schema } from "effect"

import { handleTokenResponse } from "./internal/tokenResponse.js"
import * as transport from "./internal/transport.js"
import { OAuthConfig } from "./OAuthConfig.js"
import type { OAuthError } from "./OAuthError.js"
import { TransportError } from "./OAuthError.js"
import { OAuthTokenGenerateRequest, OAuthTokenRefreshRequest, type OAuthTokenResponse } from "./OAuthSchema.js"
import * as RetryPolicy from "./RetryPolicy.js"

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
 * Token requests sent, by operation and outcome (`ok` or the error's tag).
 *
 * @since 0.1.0
 * @category metrics
 */
export const requestsTotal = Metric.counter("dropbox_sign_oauth_requests_total", {
  description: "Token endpoint attempts, tagged by operation and outcome",
  incremental: true
})

/**
 * Latency of token requests, in milliseconds, retries included.
 *
 * @since 0.1.0
 * @category metrics
 */
export const requestDuration = Metric.timerWithBoundaries("dropbox_sign_oauth_request_duration", [
  10,
  25,
  50,
  100,
  250,
  500,
  1000,
  2500,
  5000,
  10000
])

const secretFields = ["client_secret", "code", "refresh_token"] as const

type Operation = "oauthTokenGenerate" | "oauthTokenRefresh"

const encodeGenerate = Schema.encode(OAuthTokenGenerateRequest)
const encodeRefresh = Schema.encode(OAuthTokenRefreshRequest)

/**
 * Builds the service from an `HttpClient` (the application picks the implementation) and `OAuthConfig`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, HttpClient.HttpClient | OAuthConfig> = Effect.gen(function*() {
  const config = yield* OAuthConfig
  // Trace headers are not sent to a third-party authorization server.
  const client = (yield* HttpClient.HttpClient).pipe(HttpClient.withTracerPropagation(false))
  const tokenUrl = `${config.oauthUrl}/oauth/token`
  // `refresh` is a bare flag: kept verbatim in the URL rather than as a `refresh=` parameter.
  const refreshUrl = `${tokenUrl}?refresh`

  // Built once rather than per request: the method, URL and headers never change, and tagging a metric allocates and
  // hashes a new key each time (together about a tenth of a request's CPU time in the benchmarks).
  const endpoints: Record<Operation, Endpoint> = {
    oauthTokenGenerate: endpoint("oauthTokenGenerate", tokenUrl),
    oauthTokenRefresh: endpoint("oauthTokenRefresh", refreshUrl)
  }

  const attempt = ({ counters, request: base }: Endpoint, body: Record<string, unknown>) => {
    const secrets = secretFields.flatMap((key) => typeof body[key] === "string" ? [body[key]] : [])
    const request = HttpClientRequest.bodyUnsafeJson(base, body)
    return client.execute(request).pipe(
      Effect.catchTags({
        RequestError: (error) => Effect.fail(transport.fromRequestError(error)),
        ResponseError: (error) => Effect.fail(transport.fromBodyReadError(error))
      }),
      Effect.flatMap((response) => handleTokenResponse(response, secrets)),
      Effect.timeoutFail({ duration: config.requestTimeout, onTimeout: transport.timedOut }),
      // With fetch, a redirect would be followed with the body: ask for it to be handed back instead.
      Effect.provideService(FetchHttpClient.RequestInit, manualRedirect),
      Effect.tapBoth({
        onFailure: (error) => Metric.increment(counters[error._tag]),
        onSuccess: () => Metric.increment(counters.ok)
      })
    )
  }

  const send = (
    operation: Operation,
    url: string,
    body: Record<string, unknown>,
    attributes: Record<string, unknown>
  ) =>
    RetryPolicy.retry(attempt(endpoints[operation], body), {
      schedule: config.retrySchedule,
      maxRateLimitWait: config.maxRateLimitWait
    }).pipe(
      Metric.trackDuration(endpoints[operation].duration),
      Effect.tapError((error) =>
        Effect.logDebug("Dropbox Sign token request failed").pipe(
          Effect.annotateLogs({ operation, error: error._tag, message: error.message })
        )
      ),
      Effect.withSpan(`OAuthApi.${operation}`, {
        kind: "client",
        attributes: { "oauth.client_id": config.clientId, "url.full": url, ...attributes }
      })
    )

  const encodeFailure = () => new TransportError({ outcome: "NotSent", reason: "the request could not be encoded" })

  return OAuthApi.of({
    oauthTokenGenerate: (request) =>
      encodeGenerate(request).pipe(
        Effect.mapError(encodeFailure),
        Effect.flatMap((body) =>
          send("oauthTokenGenerate", tokenUrl, body, { "oauth.grant_type": "authorization_code" })
        )
      ),
    oauthTokenRefresh: (request) =>
      encodeRefresh(request).pipe(
        Effect.mapError(encodeFailure),
        Effect.flatMap((body) =>
          send("oauthTokenRefresh", refreshUrl, body, {
            "oauth.grant_type": "refresh_token",
            "oauth.client_credentials": request.clientId !== undefined
          })
        )
      )
  })
})

/** What each attempt at one operation shares: its request without a body, and its tagged metrics. */
interface Endpoint {
  readonly request: HttpClientRequest.HttpClientRequest
  readonly counters: Record<OAuthError["_tag"] | "ok", Metric.Metric.Counter<number>>
  readonly duration: typeof requestDuration
}

const endpoint = (operation: Operation, url: string): Endpoint => {
  const counter = (outcome: OAuthError["_tag"] | "ok") =>
    requestsTotal.pipe(Metric.tagged("operation", operation), Metric.tagged("outcome", outcome))
  return {
    request: HttpClientRequest.post(url).pipe(HttpClientRequest.acceptJson),
    counters: {
      ok: counter("ok"),
      OAuthApiError: counter("OAuthApiError"),
      RateLimitedError: counter("RateLimitedError"),
      ServerError: counter("ServerError"),
      TransportError: counter("TransportError"),
      ResponseDecodeError: counter("ResponseDecodeError")
    },
    duration: requestDuration.pipe(Metric.tagged("operation", operation))
  }
}

const manualRedirect: RequestInit = { redirect: "manual" }

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<OAuthApi, never, HttpClient.HttpClient | OAuthConfig> = Layer.effect(OAuthApi, make)
