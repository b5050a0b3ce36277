/**
 * What a fake Dropbox Sign records for a test's assertions: each request as it arrived (credentials redacted) and the
 * counters. Every export is reached as `FakeDropboxSign.X` from `@dropbox-sign-effect/testing`.
 *
 * @since 0.1.0
 */
import type { Redacted } from "effect"

import type { Fault, Route } from "./FakeDropboxSignFault.js"

/**
 * One request as the fake received it. Credentials (the `Authorization` header, `client_secret`, `code`,
 * `refresh_token`, `access_token`) are `Redacted`, so printing an entry never shows them; `Redacted.value` reads them
 * in an assertion.
 *
 * @since 0.1.0
 * @category models
 */
export interface LoggedRequest {
  /** `undefined` for a path the fake does not serve; a consent page's `POST` is logged as `"authorize"`. */
  readonly route: Route | undefined
  readonly method: string
  /** Path and query, e.g. `/oauth/token?refresh`. */
  readonly path: string
  readonly headers: Readonly<Record<string, string | Redacted.Redacted>>
  readonly contentType: string | undefined
  /** Parsed body fields (JSON, form or multipart), credentials redacted; empty when the body was malformed. */
  readonly body: Readonly<Record<string, unknown>>
  readonly malformedBody: boolean
  /** The fault this request consumed, or `undefined`. */
  readonly fault: Fault["_tag"] | undefined
  /** `Clock` time in epoch milliseconds. */
  readonly receivedAt: number
}

/**
 * Counts since the fake started or `resetLog` last ran.
 *
 * @since 0.1.0
 * @category models
 */
export interface Counters {
  /** Every request that reached the fake (a `ConnectionRefused` fault means it did not). */
  readonly requests: number
  /** Requests to `GET /oauth/authorize` (a consent page's `POST` is not one). */
  readonly authorizeRequests: number
  /** Authorizations that ended in a code: automatic ones and consent pages answered "Authorize". */
  readonly consentsGranted: number
  /** Authorizations that ended in `access_denied`: automatic ones and consent pages answered "Deny". */
  readonly consentsDenied: number
  /** Requests to `POST /oauth/token` without `?refresh`. */
  readonly tokenRequests: number
  /** Successful authorization-code exchanges (including those a `ConnectionReset({ processed: true })` hid). */
  readonly codesExchanged: number
  /** Requests to `POST /oauth/token?refresh`. */
  readonly refreshRequests: number
  /** Successful refreshes (including those a `ConnectionReset({ processed: true })` hid). */
  readonly refreshesServed: number
  readonly accountRequests: number
  /** Requests the fake answered with an error of its own (4xx), not counting faults. */
  readonly rejected: number
  /** Faults consumed. */
  readonly faultsInjected: number
}
