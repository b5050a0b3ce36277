import { Clock, Effect, Either, Redacted, Schema } from "effect"

import type { OAuthError } from "../OAuthError.js"
import { OAuthApiError, RateLimitedError, ResponseDecodeError, ServerError } from "../OAuthError.js"
import { AnyErrorResponse, type OAuthTokenResponse, Rfc6749ErrorResponse } from "../OAuthSchema.js"
import { parseRateLimit } from "./rateLimit.js"
import { decodeTokenBody } from "./tokenCodec.js"

/** What either transport hands over: a complete answer, its body read up to the size limit. */
export interface RawResponse {
  readonly status: number
  /** A response header by its lower-case name. */
  readonly header: (name: string) => string | undefined
  readonly body: string
  /** The body was longer than the limit: `body` holds only its first part. */
  readonly truncated: boolean
}

/** The limits an answer is held to. */
export interface ResponsePolicy {
  /** In bytes. */
  readonly maxResponseBytes: number
  readonly minLifetimeSeconds: number
}

const decodeErrorResponse = Schema.decodeUnknownEither(Schema.parseJson(AnyErrorResponse))

/**
 * Removes the request's own secrets from text the server wrote: an error message may echo the code or token that
 * was sent.
 */
const scrubber = (secrets: ReadonlyArray<string>) => (text: string): string =>
  secrets.reduce((scrubbed, secret) => secret.length < 4 ? scrubbed : scrubbed.split(secret).join("<redacted>"), text)

const apiError = (status: number, text: string, secrets: ReadonlyArray<string>): OAuthApiError => {
  const body = Redacted.make(text)
  if (status < 400) {
    // Redirects are never followed: following one would re-send the secrets in the body to another location.
    return new OAuthApiError({
      status,
      errorName: status >= 300 ? "unexpected_redirect" : "unexpected_status",
      errorMsg: `the token endpoint answered ${status}; the request was not sent anywhere else`,
      body
    })
  }
  const decoded = decodeErrorResponse(text)
  if (Either.isLeft(decoded)) {
    return new OAuthApiError({ status, errorName: `http_${status}`, errorMsg: "unrecognized error body", body })
  }
  const scrub = scrubber(secrets)
  const decodedBody = decoded.right
  if (decodedBody instanceof Rfc6749ErrorResponse) {
    return new OAuthApiError({
      status,
      errorName: scrub(decodedBody.error),
      errorMsg: scrub(decodedBody.errorDescription ?? decodedBody.error),
      body
    })
  }
  const error = decodedBody.error
  return new OAuthApiError({
    status,
    errorName: scrub(error.errorName),
    errorMsg: scrub(error.errorMsg),
    ...(error.errorPath === undefined ? {} : { errorPath: scrub(error.errorPath) }),
    body
  })
}

const decodeSuccess = (
  response: RawResponse,
  policy: ResponsePolicy
): Effect.Effect<OAuthTokenResponse, ResponseDecodeError> => {
  const fail = (description: string) =>
    Effect.fail(new ResponseDecodeError({ status: response.status, description, body: Redacted.make(response.body) }))
  if (response.truncated) return fail(`the body is larger than the ${policy.maxResponseBytes}-byte limit`)
  const decoded = decodeTokenBody(response.body)
  if (Either.isLeft(decoded)) return fail(decoded.left)
  if (decoded.right.expiresIn < policy.minLifetimeSeconds) {
    return fail(`expires_in is below the minimum token lifetime of ${policy.minLifetimeSeconds} seconds`)
  }
  return Effect.succeed(decoded.right)
}

/**
 * Turns a token-endpoint answer into a token or one error of the family. The body was read as text, so that an HTML
 * page or a truncated body is a `ResponseDecodeError` rather than a defect, and is kept (redacted) on errors.
 * Decoding goes by content, not by `Content-Type`, which the service does not always set right. `requestSecrets` are
 * scrubbed from the server's error messages. A body over the size limit is refused on a 2XX; for other statuses its
 * first part is enough to classify the answer.
 */
export const handleTokenResponse = (
  response: RawResponse,
  requestSecrets: ReadonlyArray<string>,
  policy: ResponsePolicy
): Effect.Effect<OAuthTokenResponse, OAuthError> => {
  const status = response.status
  if (status >= 200 && status < 300) return decodeSuccess(response, policy)
  if (status === 429) {
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const info = parseRateLimit(response.header, now)
      return Effect.fail(
        new RateLimitedError({
          retryAfter: info.retryAfter,
          ...(info.limit === undefined ? {} : { limit: info.limit }),
          ...(info.remaining === undefined ? {} : { remaining: info.remaining }),
          ...(info.reset === undefined ? {} : { reset: info.reset })
        })
      )
    })
  }
  if (status >= 500) return Effect.fail(new ServerError({ status, body: Redacted.make(response.body) }))
  return Effect.fail(apiError(status, response.body, requestSecrets))
}
