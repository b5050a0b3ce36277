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
import type { Cause, Duration, Effect, Layer, Redacted, Scope } from "effect"
import { Context } from "effect"

import type {
  AccountOptions,
  AppOptions,
  AppUpdate,
  ErrorShape,
  FakeAccount,
  FakeApp,
  GrantInfo
} from "./FakeDropboxSignApp.js"
import type { Fault, Route, SimulatedTransportFault } from "./FakeDropboxSignFault.js"
import type { Counters, LoggedRequest } from "./FakeDropboxSignLog.js"
import * as internal from "./internal/fakeDropboxSign.js"
import * as internalLayers from "./internal/layers.js"

/**
 * The apps and accounts the fake knows (`AppOptions`, `FakeApp`, `AppUpdate`, `AccountOptions`, `FakeAccount`,
 * `Consent`, `ErrorShape`, `GrantInfo`) and the defaults it starts with (`defaultApp`, `defaultAccount`).
 *
 * @since 0.1.0
 * @category models
 */
export * from "./FakeDropboxSignApp.js"

/**
 * The routes faults are queued for (`Route`), the faults (`Fault`, with its constructors) and the failure a broken
 * connection takes inside the fake (`SimulatedTransportFault`).
 *
 * @since 0.1.0
 * @category models
 */
export * from "./FakeDropboxSignFault.js"

/**
 * What the fake records for assertions: each request (`LoggedRequest`) and the `Counters`.
 *
 * @since 0.1.0
 * @category models
 */
export * from "./FakeDropboxSignLog.js"

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

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
