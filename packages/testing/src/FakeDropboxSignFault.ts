/**
 * What can go wrong at a fake Dropbox Sign: the routes faults are queued for, the faults themselves, and the failure a
 * broken connection takes inside the fake. Every export is reached as `FakeDropboxSign.X` from
 * `@dropbox-sign-effect/testing`.
 *
 * @since 0.1.0
 */
import type { Duration } from "effect"
import { Data } from "effect"

import type { ErrorShape } from "./FakeDropboxSignApp.js"

/**
 * The endpoints faults are queued for: `GET /oauth/authorize`, `POST /oauth/token` (code exchange),
 * `POST /oauth/token?refresh` and `GET /v3/account`.
 *
 * @since 0.1.0
 * @category models
 */
export type Route = "authorize" | "token" | "refresh" | "account"

/**
 * A fault, queued per route with `injectFault` and consumed by the next request on that route.
 *
 * - `Status`: answers `status` with an error body (`errorName` defaults from the status) without processing.
 * - `RateLimited`: 429 `exceeded_rate` with exactly one kind of hint: `Retry-After: retryAfter` when `retryAfter` is
 *   set (the default is 1 second), otherwise `X-Ratelimit-Reset` `resetAfter` seconds from now (with
 *   `X-RateLimit-Limit` and `X-RateLimit-Remaining: 0`).
 * - `Latency`: waits (`Effect.sleep`, so `TestClock` controls it), then handles the request normally, even if the
 *   client gave up meanwhile (a timeout after sending: the outcome-unknown case).
 * - `ConnectionReset`: the client sees a reset connection (`ECONNRESET`). With `processed: true` the request takes
 *   effect first (a code is consumed, a refresh token rotated): the outcome-unknown case.
 * - `ConnectionRefused`: the request is not processed, logged or counted (only `faultsInjected` is). In-memory the
 *   client fails with `ECONNREFUSED`; over a socket the connection was already accepted, so the fake resets it before
 *   reading the body: the client sees a reset, not a refusal.
 * - `Hang`: never answers; the client's timeout ends its wait, the fake's scope ends the request.
 * - `TruncatedJson`: processes the request, then sends only the first half of the JSON body.
 * - `HtmlPage`: a proxy's HTML error page (default status 502), without processing.
 * - `WrongContentType`: processes the request and sends its JSON body as `text/plain`.
 * - `RawBody`: answers exactly `status`, `body` and `contentType` (default `text/plain`), without processing.
 *
 * @since 0.1.0
 * @category models
 */
export type Fault = Data.TaggedEnum<{
  Status: {
    readonly status: number
    readonly errorName?: string | undefined
    readonly errorMsg?: string | undefined
    readonly errorPath?: string | undefined
    readonly shape?: ErrorShape | undefined
    readonly headers?: Readonly<Record<string, string>> | undefined
  }
  RateLimited: { readonly retryAfter?: number | undefined; readonly resetAfter?: number | undefined }
  Latency: { readonly duration: Duration.DurationInput }
  ConnectionReset: { readonly processed?: boolean | undefined }
  ConnectionRefused: {}
  Hang: {}
  TruncatedJson: {}
  HtmlPage: { readonly status?: number | undefined }
  WrongContentType: {}
  RawBody: { readonly status: number; readonly body: string; readonly contentType?: string | undefined }
}>

/**
 * Constructors for `Fault`.
 *
 * @example
 * ```ts
 * import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
 *
 * FakeDropboxSign.Fault.Status({ status: 503 })
 * FakeDropboxSign.Fault.RateLimited({ resetAfter: 30 })
 * FakeDropboxSign.Fault.ConnectionReset({ processed: true })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const Fault = Data.taggedEnum<Fault>()

/**
 * The failure of the fake's `HttpApp` when a fault asks for a broken connection. The layers turn it into what a
 * client would see: a transport `RequestError` in memory, a reset socket over TCP.
 *
 * @since 0.1.0
 * @category errors
 */
export class SimulatedTransportFault extends Data.TaggedError("SimulatedTransportFault")<{
  readonly kind: "ConnectionReset" | "ConnectionRefused"
}> {}
