/**
 * An in-process and loopback stand-in for Dropbox Sign's OAuth endpoints, with fault injection, a request log and
 * counters. One `HttpApp`, served either by an in-memory `HttpClient` (`layerClient`) or a real loopback HTTP server
 * (`layerServer`).
 *
 * @example
 * ```ts
 * import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
 * import { HttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const fake = yield* FakeDropboxSign.FakeDropboxSign
 *   yield* fake.injectFault("refresh", FakeDropboxSign.Fault.RateLimited({ retryAfter: 2 }))
 *   // ... exercise the code under test with the provided HttpClient ...
 *   const counters = yield* fake.counters
 * }).pipe(Effect.provide(FakeDropboxSign.layerClient))
 * ```
 *
 * @since 0.1.0
 */
import type { HttpApp, HttpClient, HttpServerError } from "@effect/platform"
import type { Cause, Effect, Layer, Scope } from "effect"
import { Context, Data, Duration, Redacted } from "effect"

import * as internal from "./internal/fakeDropboxSign.js"
import * as internalLayers from "./internal/layers.js"
import type * as Reply from "./internal/reply.js"

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

/**
 * The endpoints faults are queued for: `GET /oauth/authorize`, `POST /oauth/token` (code exchange),
 * `POST /oauth/token?refresh` and `GET /v3/account`.
 *
 * @since 0.1.0
 * @category models
 */
export type Route = "authorize" | "token" | "refresh" | "account"

/**
 * The shape of OAuth error bodies: Dropbox Sign's `{"error": {"error_msg", "error_name", "error_path"}}` or
 * RFC 6749's `{"error": "<code>", "error_description"}`.
 *
 * @since 0.1.0
 * @category models
 */
export type ErrorShape = Reply.ErrorShape

/**
 * How the signed-in account answers `GET /oauth/authorize`:
 *
 * - `"allow"`: at once, with a redirect to the callback URL carrying `code` and `state`.
 * - `"deny"`: at once, with a redirect carrying `error=access_denied` and `state`.
 * - `"page"`: with an HTML consent screen (200, `text/html; charset=utf-8`) that shows the app's `name` and the
 *   account's email address, and a form posting to `/oauth/authorize` with hidden `client_id`, `state` and a one-time
 *   `consent_id`, and two buttons, `decision=allow` ("Authorize") and `decision=deny` ("Deny"). The `POST` answers
 *   with the same redirects as the automatic modes; a form whose consent id is unknown, already answered or does not
 *   match its `client_id` and `state` gets a 4xx HTML error page and changes nothing.
 *
 * `denyNextConsent` denies at once in every mode, before any page is shown.
 *
 * @example
 * ```ts
 * import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
 *
 * // A browser test: the fake on loopback shows a consent page for its default app.
 * const fake = FakeDropboxSign.layerServer({ defaultApp: { consent: "page", name: "Acme Contracts" } })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Consent = "allow" | "deny" | "page"

/**
 * Options for a registered API app; every field has a default (see `defaultApp`; a new app gets a random client id
 * and secret).
 *
 * @since 0.1.0
 * @category models
 */
export interface AppOptions {
  readonly clientId?: string | undefined
  /** The app's display name, shown on the consent page. */
  readonly name?: string | undefined
  readonly clientSecret?: string | Redacted.Redacted<string> | undefined
  /** Where `/oauth/authorize` redirects to; a query it has is kept. */
  readonly callbackUrl?: string | undefined
  readonly accessTokenTtl?: Duration.DurationInput | undefined
  /** Refresh tokens never expire unless this is set. */
  readonly refreshTokenTtl?: Duration.DurationInput | undefined
  readonly codeTtl?: Duration.DurationInput | undefined
  /** When on, each refresh issues a new refresh token and the old one is rejected from then on. */
  readonly rotateRefreshTokens?: boolean | undefined
  /** When on, a refresh without `client_id` and `client_secret` is rejected (new API apps behave so). */
  readonly requireClientCredentialsOnRefresh?: boolean | undefined
  readonly errorShape?: ErrorShape | undefined
  /** How consent is answered (default `"allow"`); `denyNextConsent` denies one authorization regardless. */
  readonly consent?: Consent | undefined
}

/**
 * A registered API app, every option resolved.
 *
 * @since 0.1.0
 * @category models
 */
export interface FakeApp {
  readonly clientId: string
  readonly name: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly callbackUrl: string
  readonly accessTokenTtl: Duration.Duration
  readonly refreshTokenTtl: Duration.Duration | undefined
  readonly codeTtl: Duration.Duration
  readonly rotateRefreshTokens: boolean
  readonly requireClientCredentialsOnRefresh: boolean
  readonly errorShape: ErrorShape
  readonly consent: Consent
}

/**
 * Options for `updateApp`: every option but the client id.
 *
 * @since 0.1.0
 * @category models
 */
export type AppUpdate = Omit<AppOptions, "clientId">

/**
 * Options for a registered account.
 *
 * @since 0.1.0
 * @category models
 */
export interface AccountOptions {
  readonly accountId?: string | undefined
  readonly emailAddress?: string | undefined
  readonly name?: string | undefined
}

/**
 * A Dropbox Sign account that can authorize apps.
 *
 * @since 0.1.0
 * @category models
 */
export interface FakeAccount {
  readonly accountId: string
  readonly emailAddress: string
  readonly name: string | undefined
}

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
 * A grant (one authorization of an app by an account) as `grants` shows it: the refresh token the fake accepts for
 * it now (with rotation, the latest one issued), `Redacted` like every credential the fake hands out.
 *
 * @since 0.1.0
 * @category models
 */
export interface GrantInfo {
  /** Opaque and stable for the grant's life; not a credential. */
  readonly grantId: string
  readonly clientId: string
  readonly accountId: string
  readonly refreshToken: Redacted.Redacted<string>
  readonly revoked: boolean
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

/**
 * Options for `make` and the layers.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Overrides for the app every fake registers at start (`defaultApp`). */
  readonly defaultApp?: AppOptions | undefined
  /** Overrides for the account that consents in the browser step (`defaultAccount`). */
  readonly defaultAccount?: AccountOptions | undefined
  /** The error shape when no app can be identified from the request (default `"dropbox"`). */
  readonly errorShape?: ErrorShape | undefined
  /** The `X-RateLimit-*` headers of token responses; enforcement is off by default, so only faults send 429s. */
  readonly rateLimit?: {
    readonly limit?: number | undefined
    readonly window?: Duration.DurationInput | undefined
    readonly enforce?: boolean | undefined
  } | undefined
  /** Keep the request log (default `true`); long benchmarks may turn it off, counters still count. */
  readonly logRequests?: boolean | undefined
}

/**
 * The control and inspection interface of a running fake.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Registers an app, replacing an app with the same client id. */
  readonly registerApp: (options?: AppOptions) => Effect.Effect<FakeApp>
  /** Changes a registered app, e.g. toggles rotation or the error shape. */
  readonly updateApp: (clientId: string, options: AppUpdate) => Effect.Effect<FakeApp, Cause.NoSuchElementException>
  readonly registerAccount: (options?: AccountOptions) => Effect.Effect<FakeAccount>
  /** Makes `accountId` the account that consents in `/oauth/authorize`. */
  readonly signIn: (accountId: string) => Effect.Effect<void, Cause.NoSuchElementException>
  /**
   * Issues a code as the consent step would, skipping the browser. `clientId` defaults to the default app,
   * `accountId` to the signed-in account.
   */
  readonly issueCode: (options: {
    readonly clientId?: string | undefined
    readonly accountId?: string | undefined
    readonly state: string
  }) => Effect.Effect<Redacted.Redacted<string>, Cause.NoSuchElementException>
  /** Denies the next authorization: `/oauth/authorize` redirects with `error=access_denied`. Calls add up. */
  readonly denyNextConsent: Effect.Effect<void>
  /**
   * Revokes every grant matching both filters (an absent filter matches all): its refresh and access tokens stop
   * working. Returns how many grants were revoked.
   */
  readonly revokeGrant: (options?: {
    readonly clientId?: string | undefined
    readonly accountId?: string | undefined
  }) => Effect.Effect<number>
  /** Expires every access token now; refresh tokens keep working. */
  readonly expireAllTokens: Effect.Effect<void>
  /** Queues `fault` `times` times (default 1) for `route`; each request on the route consumes one, FIFO. */
  readonly injectFault: (route: Route, fault: Fault, times?: number) => Effect.Effect<void>
  /** Drops every queued fault. */
  readonly clearFaults: Effect.Effect<void>
  readonly requests: Effect.Effect<ReadonlyArray<LoggedRequest>>
  readonly counters: Effect.Effect<Counters>
  /**
   * Every grant with its current refresh token, read-only: lets a test compare what an application stored with what
   * the fake accepts (after rotation, only the newest token of a grant works).
   */
  readonly grants: Effect.Effect<ReadonlyArray<GrantInfo>>
  /** Clears the request log and the counters. */
  readonly resetLog: Effect.Effect<void>
}

/**
 * The fake's control service.
 *
 * @since 0.1.0
 * @category tags
 */
export class FakeDropboxSign extends Context.Tag("@dropbox-sign-effect/testing/FakeDropboxSign")<
  FakeDropboxSign,
  Service
>() {}

/**
 * Where `layerServer` listens.
 *
 * @since 0.1.0
 * @category tags
 */
export class FakeDropboxSignServer extends Context.Tag("@dropbox-sign-effect/testing/FakeDropboxSignServer")<
  FakeDropboxSignServer,
  {
    /** e.g. `http://127.0.0.1:54321` */
    readonly url: string
    /** The base of `/oauth/authorize` and `/oauth/token` (`url`). */
    readonly oauthUrl: string
    /** The base of `/account` (`url` + `/v3`). */
    readonly apiUrl: string
  }
>() {}

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

/**
 * A fake: its control service and the `HttpApp` that serves the endpoints.
 *
 * @since 0.1.0
 * @category models
 */
export interface Instance {
  readonly service: Service
  readonly app: HttpApp.Default<SimulatedTransportFault>
}

// -----------------------------------------------------------------------------
// defaults
// -----------------------------------------------------------------------------

/**
 * The app every fake registers at start, with the official fixture credentials.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultApp: FakeApp = {
  clientId: "cc91c61d00f8bb2ece1428035716b",
  name: "Dropbox Sign Test App",
  clientSecret: Redacted.make("1d14434088507ffa390e6f5528465"),
  callbackUrl: "http://127.0.0.1/callback",
  accessTokenTtl: Duration.hours(1),
  refreshTokenTtl: undefined,
  codeTtl: Duration.minutes(10),
  rotateRefreshTokens: false,
  requireClientCredentialsOnRefresh: true,
  errorShape: "dropbox",
  consent: "allow"
}

/**
 * The account that consents in the browser step unless `signIn` picks another.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultAccount: FakeAccount = {
  accountId: "fa5c8a0b0f492d768749333ad6fcc214c111e967",
  emailAddress: "jack@example.com",
  name: "Jack"
}

// -----------------------------------------------------------------------------
// constructors
// -----------------------------------------------------------------------------

/**
 * Creates a fake: its state, its control service and its `HttpApp`. The layers are built on it; use it directly to
 * mount the app in a server of your own. Requests being handled run in fibers of the scope, so they finish even when
 * their client stops waiting, and closing the scope ends them (hanging ones included).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<Instance, never, Scope.Scope> = internal.make

// -----------------------------------------------------------------------------
// layers
// -----------------------------------------------------------------------------

/**
 * The fake with an in-memory `HttpClient` that serves every request, whatever its host, without a socket. Requests
 * run in the caller's fiber, so `TestClock` drives expiry and latency.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClientWith: (options?: Options) => Layer.Layer<FakeDropboxSign | HttpClient.HttpClient> =
  internalLayers.layerClientWith

/**
 * `layerClientWith` with the default options.
 *
 * @example
 * ```ts
 * import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
 * import { HttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * const status = HttpClient.get("https://api.hellosign.com/v3/account").pipe(
 *   Effect.map((response) => response.status), // 401: no token
 *   Effect.provide(FakeDropboxSign.layerClient)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient: Layer.Layer<FakeDropboxSign | HttpClient.HttpClient> = layerClientWith()

/**
 * Options for `layerServer`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServerOptions extends Options {
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  readonly port?: number | undefined
}

/**
 * The fake served by a real HTTP server on `127.0.0.1`, for end-to-end tests, other processes and benchmarks.
 * `FakeDropboxSignServer` gives its URLs. On release every connection is closed, hanging ones included; a simulated
 * broken connection resets the socket.
 *
 * The server's handlers run with the services of the fiber that built the layer: built inside `it.effect` they use
 * `TestClock` (so `Latency` waits for `TestClock.adjust`); use `it.live` or `layer(..., { excludeTestServices: true })`
 * for the live clock.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerServer: (
  options?: ServerOptions
) => Layer.Layer<FakeDropboxSign | FakeDropboxSignServer, HttpServerError.ServeError> = internalLayers.layerServer
