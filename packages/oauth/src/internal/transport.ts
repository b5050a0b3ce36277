import type { HttpClientError } from "@effect/platform"
import { Predicate } from "effect"

import type { TransportOutcome, TransportReason } from "../OAuthError.js"
import { TransportError } from "../OAuthError.js"

/**
 * System and undici error codes, what they mean, and whether they prove that no byte of the request reached the
 * server (the connection was never established). Everything else (resets, socket errors after connecting, timeouts)
 * leaves the outcome unknown.
 */
const codes: ReadonlyMap<string, { readonly reason: TransportReason; readonly outcome: TransportOutcome }> = new Map([
  ["ECONNREFUSED", { reason: "ConnectionRefused", outcome: "NotSent" }],
  ["ENOTFOUND", { reason: "HostNotFound", outcome: "NotSent" }],
  ["EAI_AGAIN", { reason: "HostNotFound", outcome: "NotSent" }],
  ["EHOSTUNREACH", { reason: "HostUnreachable", outcome: "NotSent" }],
  ["ENETUNREACH", { reason: "HostUnreachable", outcome: "NotSent" }],
  ["EADDRNOTAVAIL", { reason: "HostUnreachable", outcome: "NotSent" }],
  ["UND_ERR_CONNECT_TIMEOUT", { reason: "ConnectTimeout", outcome: "NotSent" }],
  ["ERR_INVALID_URL", { reason: "InvalidUrl", outcome: "NotSent" }],
  ["ECONNRESET", { reason: "ConnectionReset", outcome: "Unknown" }],
  ["EPIPE", { reason: "ConnectionReset", outcome: "Unknown" }],
  ["UND_ERR_SOCKET", { reason: "ConnectionReset", outcome: "Unknown" }],
  ["UND_ERR_CLOSED", { reason: "ConnectionReset", outcome: "Unknown" }],
  ["ETIMEDOUT", { reason: "Timeout", outcome: "Unknown" }],
  ["UND_ERR_HEADERS_TIMEOUT", { reason: "Timeout", outcome: "Unknown" }],
  ["UND_ERR_BODY_TIMEOUT", { reason: "Timeout", outcome: "Unknown" }]
])

const maxCauseDepth = 8

/** The first error in a `cause` chain (undici and fetch nest the system error) that has an error `code`. */
const findCoded = (error: unknown): { readonly code: string; readonly syscall: unknown } | undefined => {
  let current: unknown = error
  for (let depth = 0; depth < maxCauseDepth && Predicate.isObject(current); depth++) {
    if (Predicate.hasProperty(current, "code") && Predicate.isString(current.code)) {
      return { code: current.code, syscall: Predicate.hasProperty(current, "syscall") ? current.syscall : undefined }
    }
    current = Predicate.hasProperty(current, "cause") ? current.cause : undefined
  }
  return undefined
}

/** Walks `cause` chains looking for an error `code`. */
export const findErrorCode = (error: unknown): string | undefined => findCoded(error)?.code

/**
 * Codes that prove nothing was sent only when they come from establishing the connection: a route lost while an
 * established connection waits for its answer gives the same codes after the request was written.
 */
const connectOnly: ReadonlySet<string> = new Set(["EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL"])

/**
 * Translates a failure to connect or to exchange the request. Only the error code is kept: the original error may
 * hold the request, whose body carries secrets. `started`: the request was handed to the connection, so whatever
 * failed afterwards, it may have been processed.
 */
export const fromCause = (cause: unknown, started = false): TransportError => {
  const coded = findCoded(cause)
  const known = coded === undefined ? undefined : codes.get(coded.code)
  const provenNotSent = known?.outcome === "NotSent" && !started &&
    (coded === undefined || !connectOnly.has(coded.code) || coded.syscall === "connect")
  return new TransportError({
    outcome: provenNotSent ? "NotSent" : "Unknown",
    reason: known?.reason ?? "ConnectionFailed",
    ...(coded === undefined ? {} : { code: coded.code })
  })
}

/** Translates a request-level client error of `@effect/platform`. */
export const fromRequestError = (error: HttpClientError.RequestError): TransportError => {
  switch (error.reason) {
    case "InvalidUrl":
      return new TransportError({ outcome: "NotSent", reason: "InvalidUrl" })
    case "Encode":
      return new TransportError({ outcome: "NotSent", reason: "Encode" })
    case "Transport":
      return fromCause(error.cause)
  }
}

/** The response started but its body could not be read: the server did process the request. */
export const bodyInterrupted = (cause: unknown): TransportError => {
  const code = findErrorCode(cause)
  return new TransportError({ outcome: "Unknown", reason: "BodyInterrupted", ...(code === undefined ? {} : { code }) })
}

/**
 * The attempt took longer than the per-request timeout. `NotSent` only when the transport proves no byte was written
 * (the lean undici transport knows; a generic `HttpClient` does not).
 */
export const timedOut = (outcome: TransportOutcome = "Unknown"): TransportError =>
  new TransportError({ outcome, reason: "Timeout" })

/** The request body could not be encoded: nothing was sent. */
export const encodeFailed = (): TransportError => new TransportError({ outcome: "NotSent", reason: "Encode" })
