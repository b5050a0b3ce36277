import type { HttpClientError } from "@effect/platform"
import { Predicate } from "effect"

import { TransportError } from "../OAuthError.js"

/**
 * Error codes proving that no byte of the request reached the server: the connection was never established.
 * Everything else (resets, socket errors after connecting, timeouts) leaves the outcome unknown.
 */
const notSentCodes: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
  "ERR_INVALID_URL"
])

const maxCauseDepth = 8

/** Walks `cause` chains (undici and fetch nest the system error) looking for an error `code`. */
export const findErrorCode = (error: unknown): string | undefined => {
  let current: unknown = error
  for (let depth = 0; depth < maxCauseDepth && Predicate.isObject(current); depth++) {
    if (Predicate.hasProperty(current, "code") && Predicate.isString(current.code)) return current.code
    current = Predicate.hasProperty(current, "cause") ? current.cause : undefined
  }
  return undefined
}

/**
 * Translates a request-level client error. Only the error code is kept: the original cause holds the request,
 * whose body carries secrets.
 */
export const fromRequestError = (error: HttpClientError.RequestError): TransportError => {
  if (error.reason === "InvalidUrl" || error.reason === "Encode") {
    return new TransportError({ outcome: "NotSent", reason: error.reason === "InvalidUrl" ? "invalid URL" : "encode" })
  }
  const code = findErrorCode(error.cause)
  return new TransportError({
    outcome: code !== undefined && notSentCodes.has(code) ? "NotSent" : "Unknown",
    reason: code ?? "connection failed"
  })
}

/** The response started but its body could not be read: the server did process the request. */
export const fromBodyReadError = (error: HttpClientError.ResponseError): TransportError =>
  new TransportError({ outcome: "Unknown", reason: findErrorCode(error.cause) ?? "response body interrupted" })

/** The attempt took longer than the per-request timeout; it may still be processed. */
export const timedOut = (): TransportError => new TransportError({ outcome: "Unknown", reason: "timeout" })
