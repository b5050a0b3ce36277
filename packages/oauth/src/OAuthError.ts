/**
 * The closed family of errors the OAuth token endpoint can produce. Each carries only what a caller acts on; raw
 * bodies are kept `Redacted` so that no token can leak through a log of the error.
 *
 * @since 0.1.0
 */
import { Duration, Predicate, Schema } from "effect"

/**
 * Error names after which only a new authorization (the user consenting again) can help.
 *
 * @since 0.1.0
 * @category constants
 */
export const terminalErrorNames: ReadonlySet<string> = new Set([
  "invalid_grant",
  "unauthorized",
  "deleted",
  "access_denied",
  "expired_token"
])

const credentialPaths: ReadonlySet<string> = new Set(["client_id", "client_secret"])

/**
 * A 4XX answer from the token endpoint, decoded from either error shape.
 *
 * @since 0.1.0
 * @category errors
 */
export class OAuthApiError extends Schema.TaggedError<OAuthApiError>("@dropbox-sign-effect/oauth/OAuthApiError")(
  "OAuthApiError",
  {
    status: Schema.Number,
    errorName: Schema.String,
    errorMsg: Schema.String,
    errorPath: Schema.optional(Schema.String),
    body: Schema.Redacted(Schema.String)
  }
) {
  /**
   * True when the grant itself is gone (revoked, expired or invalid): retrying cannot help, only re-authorization.
   * Credential problems (`client_id` / `client_secret`) are configuration faults, not terminal grant failures.
   */
  get isTerminal(): boolean {
    if (this.errorName === "invalid_client") return false
    if (this.errorPath !== undefined && credentialPaths.has(this.errorPath)) return false
    return terminalErrorNames.has(this.errorName)
  }

  override get message(): string {
    const path = this.errorPath === undefined ? "" : ` (at ${this.errorPath})`
    return `Dropbox Sign answered ${this.status} ${this.errorName}: ${this.errorMsg}${path}`
  }
}

/**
 * A 429 answer, after the retry policy gave up waiting.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimitedError
  extends Schema.TaggedError<RateLimitedError>("@dropbox-sign-effect/oauth/RateLimitedError")("RateLimitedError", {
    retryAfter: Schema.DurationFromSelf,
    limit: Schema.optional(Schema.Number),
    remaining: Schema.optional(Schema.Number),
    reset: Schema.optional(Schema.Number)
  })
{
  override get message(): string {
    return `Dropbox Sign rate limit exceeded; retry after ${Duration.format(this.retryAfter)}`
  }
}

/**
 * A 5XX answer that persisted through the retries the policy allows.
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerError extends Schema.TaggedError<ServerError>("@dropbox-sign-effect/oauth/ServerError")(
  "ServerError",
  {
    status: Schema.Number,
    body: Schema.Redacted(Schema.String)
  }
) {
  override get message(): string {
    return `Dropbox Sign answered ${this.status} (server error)`
  }
}

/**
 * Whether a failed request may have reached the server. `"NotSent"`: certainly not (connection refused, DNS failure),
 * safe to retry. `"Unknown"`: it may have been processed (timeout after sending, connection reset), so a single-use
 * authorization code must not be sent again.
 *
 * @since 0.1.0
 * @category models
 */
export const TransportOutcome = Schema.Literal("NotSent", "Unknown")

/**
 * @since 0.1.0
 * @category models
 */
export type TransportOutcome = typeof TransportOutcome.Type

/**
 * What went wrong below HTTP, in fixed words a caller can switch on:
 *
 * - `ConnectionRefused`, `HostNotFound`, `HostUnreachable`, `ConnectTimeout`: no connection was made (never sent).
 * - `ConnectionReset`: the connection broke while the request or its answer was on the wire.
 * - `Timeout`: the attempt outlived `OAuthConfig.requestTimeout`.
 * - `BodyInterrupted`: the answer started but its body could not be read to the end.
 * - `InvalidUrl`, `Encode`: the request could not be built (never sent).
 * - `ConnectionFailed`: every other transport failure; `code` has the system's error code when there is one.
 *
 * @since 0.1.0
 * @category models
 */
export const TransportReason = Schema.Literal(
  "ConnectionRefused",
  "HostNotFound",
  "HostUnreachable",
  "ConnectTimeout",
  "ConnectionReset",
  "Timeout",
  "BodyInterrupted",
  "InvalidUrl",
  "Encode",
  "ConnectionFailed"
)

/**
 * @since 0.1.0
 * @category models
 */
export type TransportReason = typeof TransportReason.Type

const reasonText: Record<TransportReason, string> = {
  ConnectionRefused: "connection refused",
  HostNotFound: "host not found",
  HostUnreachable: "host unreachable",
  ConnectTimeout: "connect timeout",
  ConnectionReset: "connection reset",
  Timeout: "timeout",
  BodyInterrupted: "response body interrupted",
  InvalidUrl: "invalid URL",
  Encode: "the request could not be encoded",
  ConnectionFailed: "connection failed"
}

/**
 * The request failed below HTTP: no response, or no complete one. `code` is the system error code behind it
 * (`ECONNREFUSED`, `UND_ERR_SOCKET`, ...), when there is one.
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Schema.TaggedError<TransportError>("@dropbox-sign-effect/oauth/TransportError")(
  "TransportError",
  {
    outcome: TransportOutcome,
    reason: TransportReason,
    code: Schema.optional(Schema.String)
  }
) {
  override get message(): string {
    const outcome = this.outcome === "NotSent" ? "the request was not sent" : "the request may have been processed"
    const code = this.code === undefined ? "" : `, ${this.code}`
    return `Transport failure talking to Dropbox Sign (${reasonText[this.reason]}${code}); ${outcome}`
  }
}

/**
 * A 2XX answer whose body is not a usable token: not JSON, truncated, or missing / malformed fields. The description
 * names the offending fields, never their values.
 *
 * @since 0.1.0
 * @category errors
 */
export class ResponseDecodeError
  extends Schema.TaggedError<ResponseDecodeError>("@dropbox-sign-effect/oauth/ResponseDecodeError")(
    "ResponseDecodeError",
    {
      status: Schema.Number,
      description: Schema.String,
      body: Schema.Redacted(Schema.String)
    }
  )
{
  override get message(): string {
    return `Unusable response from Dropbox Sign (status ${this.status}): ${this.description}`
  }
}

/**
 * Every error the token endpoint operations can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type OAuthError = OAuthApiError | RateLimitedError | ServerError | TransportError | ResponseDecodeError

/**
 * @since 0.1.0
 * @category refinements
 */
export const isOAuthError = (u: unknown): u is OAuthError =>
  Predicate.isTagged(u, "OAuthApiError") || Predicate.isTagged(u, "RateLimitedError") ||
  Predicate.isTagged(u, "ServerError") || Predicate.isTagged(u, "TransportError") ||
  Predicate.isTagged(u, "ResponseDecodeError")
