import type { HttpClientResponse } from "@effect/platform"
import { Clock, Effect, Either, ParseResult, Redacted, Schema } from "effect"

import type { OAuthError } from "../OAuthError.js"
import { OAuthApiError, RateLimitedError, ResponseDecodeError, ServerError } from "../OAuthError.js"
import { AnyErrorResponse, OAuthTokenResponse, Rfc6749ErrorResponse } from "../OAuthSchema.js"
import { parseRateLimit } from "./rateLimit.js"
import { fromBodyReadError } from "./transport.js"

const decodeTokenResponse = Schema.decodeUnknownEither(OAuthTokenResponse)
const decodeErrorResponse = Schema.decodeUnknownEither(AnyErrorResponse)

const parseJson = (text: string): Either.Either<unknown, string> => {
  if (text.trim() === "") return Either.left("the body is empty")
  try {
    return Either.right(JSON.parse(text))
  } catch {
    return Either.left("the body is not valid JSON")
  }
}

/**
 * Describes a decode failure by field and kind only: `ParseError` messages quote the offending values, and those
 * may be tokens.
 */
export const describeParseError = (error: ParseResult.ParseError): string => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const described = issues.map((issue) => {
    const path = issue.path.length === 0 ? "the body" : issue.path.map(String).join(".")
    return issue._tag === "Missing" ? `${path} is missing` : `${path} is invalid`
  })
  return [...new Set(described)].join("; ")
}

const decodeSuccess = (status: number, text: string): Either.Either<OAuthTokenResponse, ResponseDecodeError> =>
  parseJson(text).pipe(
    Either.flatMap((json) => Either.mapLeft(decodeTokenResponse(json), describeParseError)),
    Either.mapLeft((description) => new ResponseDecodeError({ status, description, body: Redacted.make(text) }))
  )

/**
 * Removes the request's own secrets from text the server wrote: an error message may echo the code or token that
 * was sent.
 */
const scrubber = (secrets: ReadonlyArray<string>) => (text: string): string =>
  secrets.reduce((scrubbed, secret) => secret.length < 4 ? scrubbed : scrubbed.split(secret).join("<redacted>"), text)

const apiError = (status: number, text: string, scrub: (text: string) => string): OAuthApiError => {
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
  const decoded = Either.flatMap(parseJson(text), (json) => Either.mapLeft(decodeErrorResponse(json), String))
  if (Either.isLeft(decoded)) {
    return new OAuthApiError({ status, errorName: `http_${status}`, errorMsg: "unrecognized error body", body })
  }
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

/**
 * Turns a token-endpoint response into a token or one error of the family: the body is read once, as text, so that
 * an HTML page or a truncated body is a `ResponseDecodeError` rather than a defect, and is kept (redacted) on errors.
 * Decoding goes by content, not by `Content-Type`, which the service does not always set right. `requestSecrets` are
 * scrubbed from the server's error messages.
 */
export const handleTokenResponse = (
  response: HttpClientResponse.HttpClientResponse,
  requestSecrets: ReadonlyArray<string>
): Effect.Effect<OAuthTokenResponse, OAuthError> =>
  Effect.flatMap(Effect.mapError(response.text, fromBodyReadError), (text): Effect.Effect<
    OAuthTokenResponse,
    OAuthError
  > => {
    const status = response.status
    if (status >= 200 && status < 300) return decodeSuccess(status, text)
    if (status === 429) {
      return Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const info = parseRateLimit(response.headers, now)
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
    if (status >= 500) return Effect.fail(new ServerError({ status, body: Redacted.make(text) }))
    return Effect.fail(apiError(status, text, scrubber(requestSecrets)))
  })
