/**
 * `OAuthApi` over a transport: what both transports share (encoding, the answer's classification, retries, metrics,
 * spans, logs), so that the generic `HttpClient` path and the lean undici path behave and fail the same way.
 */
import { Duration, Effect, Either, Metric } from "effect"

import type { Service } from "../OAuthApi.js"
import type { Service as Config } from "../OAuthConfig.js"
import type { OAuthError, TransportError } from "../OAuthError.js"
import type { OAuthTokenResponse } from "../OAuthSchema.js"
import * as RetryPolicy from "../RetryPolicy.js"
import { type Operation, operationMetrics, whenTraced } from "./observability.js"
import { type EncodedBody, encodeGenerate, encodeRefresh } from "./tokenCodec.js"
import { handleTokenResponse, type RawResponse, type ResponsePolicy } from "./tokenResponse.js"
import { encodeFailed } from "./transport.js"

/** What a transport needs from the configuration. */
export interface TransportSettings {
  readonly userAgent: string
  readonly requestTimeout: Duration.Duration
  readonly maxResponseBytes: number
}

/** One attempt: sends a JSON body and hands back the answer, read up to the size limit, within the timeout. */
export type Send = (json: string) => Effect.Effect<RawResponse, TransportError>

/** A transport, given the URL every attempt of one operation posts to. */
export type Transport = (url: string) => Send

export const settingsOf = (config: Config): TransportSettings => ({
  userAgent: config.userAgent,
  requestTimeout: config.requestTimeout,
  maxResponseBytes: config.maxResponseBytes
})

type Attributes = Readonly<Record<string, unknown>>

export const make = (config: Config, transport: Transport): Service => {
  const tokenUrl = `${config.oauthUrl}/oauth/token`
  // `refresh` is a bare flag: kept verbatim in the URL rather than as a `refresh=` parameter.
  const refreshUrl = `${tokenUrl}?refresh`
  const policy: ResponsePolicy = {
    maxResponseBytes: config.maxResponseBytes,
    minLifetimeSeconds: Duration.toSeconds(config.minTokenLifetime)
  }
  const retryOptions: RetryPolicy.Options = {
    schedule: config.retrySchedule,
    maxRateLimitWait: config.maxRateLimitWait
  }

  // Everything below is built once per operation, not per request.
  const operation = (name: Operation, url: string) => {
    const send = transport(url)
    const metrics = operationMetrics(name)
    const countOk = Metric.increment(metrics.counters.ok)
    const count = {
      onFailure: (error: OAuthError) => Metric.increment(metrics.counters[error._tag]),
      onSuccess: () => countOk
    }
    const logFailure = (error: OAuthError) =>
      Effect.logDebug("Dropbox Sign token request failed").pipe(
        Effect.annotateLogs({ operation: name, error: error._tag, message: error.message })
      )
    const spanName = `OAuthApi.${name}`
    return (body: EncodedBody, attributes: Attributes): Effect.Effect<OAuthTokenResponse, OAuthError> => {
      const attempt = send(body.json).pipe(
        Effect.flatMap((response) => handleTokenResponse(response, body.secrets, policy)),
        Effect.tapBoth(count)
      )
      const request = RetryPolicy.retry(attempt, retryOptions).pipe(
        Metric.trackDuration(metrics.duration),
        Effect.tapError(logFailure)
      )
      // Built only when traced: `withSpan` captures a stack trace where it is called, whether the span is made or not.
      return whenTraced(
        () =>
          Effect.withSpan(request, spanName, {
            kind: "client",
            captureStackTrace: false,
            attributes: { "oauth.client_id": config.clientId, "url.full": url, ...attributes }
          }),
        request
      )
    }
  }

  const generate = operation("oauthTokenGenerate", tokenUrl)
  const refresh = operation("oauthTokenRefresh", refreshUrl)
  const generateAttributes: Attributes = { "oauth.grant_type": "authorization_code" }

  return {
    oauthTokenGenerate: (request) =>
      Either.match(encodeGenerate(request), {
        onLeft: () => Effect.fail(encodeFailed()),
        onRight: (body) => generate(body, generateAttributes)
      }),
    oauthTokenRefresh: (request) =>
      Either.match(encodeRefresh(request), {
        onLeft: () => Effect.fail(encodeFailed()),
        onRight: (body) =>
          refresh(body, {
            "oauth.grant_type": "refresh_token",
            "oauth.client_credentials": request.clientId !== undefined
          })
      })
  }
}
