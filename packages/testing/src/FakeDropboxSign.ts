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
import * as Crypto from "node:crypto"
import * as Http from "node:http"

import type { HttpApp, HttpClientRequest, HttpServerError } from "@effect/platform"
import {
  HttpClient,
  HttpClientError,
  HttpRouter,
  HttpServer,
  HttpServerRequest,
  HttpServerResponse
} from "@effect/platform"
import { NodeHttpServer, NodeHttpServerRequest } from "@effect/platform-node"
import type { Scope } from "effect"
import {
  Cause,
  Chunk,
  Clock,
  Context,
  Data,
  Duration,
  Effect,
  Either,
  Fiber,
  FiberSet,
  Layer,
  Redacted,
  Ref
} from "effect"

import * as Authorization from "./internal/authorization.js"
import * as Body from "./internal/body.js"
import * as ConsentPage from "./internal/consentPage.js"
import * as InMemoryClient from "./internal/inMemoryClient.js"
import * as Redact from "./internal/redact.js"
import * as Reply from "./internal/reply.js"
import * as Store from "./internal/store.js"

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
// internals
// -----------------------------------------------------------------------------

const randomToken = (): string => Crypto.randomBytes(32).toString("base64url")
const randomHex = (bytes: number): string => Crypto.randomBytes(bytes).toString("hex")

// One draw from the CSPRNG per token response: a syscall per value was the fake's largest cost under load.
const freshValues = (): Store.Fresh => {
  const bytes = Crypto.randomBytes(80)
  return {
    accessToken: bytes.subarray(0, 32).toString("base64url"),
    refreshToken: bytes.subarray(32, 64).toString("base64url"),
    grantId: bytes.subarray(64).toString("hex")
  }
}

const toRedacted = (secret: string | Redacted.Redacted<string>): Redacted.Redacted<string> =>
  Redacted.isRedacted(secret) ? secret : Redacted.make(secret)

const optionalDuration = (
  input: Duration.DurationInput | undefined,
  fallback: Duration.Duration | undefined
): Duration.Duration | undefined => input === undefined ? fallback : Duration.decode(input)

const applyOptions = (base: FakeApp, options: AppOptions): FakeApp => ({
  clientId: options.clientId ?? base.clientId,
  name: options.name ?? base.name,
  clientSecret: options.clientSecret === undefined ? base.clientSecret : toRedacted(options.clientSecret),
  // Fails here, at registration, rather than at the first redirect.
  callbackUrl: new URL(options.callbackUrl ?? base.callbackUrl).toString(),
  accessTokenTtl: optionalDuration(options.accessTokenTtl, base.accessTokenTtl) ?? base.accessTokenTtl,
  refreshTokenTtl: optionalDuration(options.refreshTokenTtl, base.refreshTokenTtl),
  codeTtl: optionalDuration(options.codeTtl, base.codeTtl) ?? base.codeTtl,
  rotateRefreshTokens: options.rotateRefreshTokens ?? base.rotateRefreshTokens,
  requireClientCredentialsOnRefresh: options.requireClientCredentialsOnRefresh ??
    base.requireClientCredentialsOnRefresh,
  errorShape: options.errorShape ?? base.errorShape,
  consent: options.consent ?? base.consent
})

const noCounters: Counters = {
  requests: 0,
  authorizeRequests: 0,
  consentsGranted: 0,
  consentsDenied: 0,
  tokenRequests: 0,
  codesExchanged: 0,
  refreshRequests: 0,
  refreshesServed: 0,
  accountRequests: 0,
  rejected: 0,
  faultsInjected: 0
}

const routeCounter = {
  authorize: "authorizeRequests",
  token: "tokenRequests",
  refresh: "refreshRequests",
  account: "accountRequests"
} as const satisfies Record<Route, keyof Counters>

type FaultQueues = Readonly<Record<Route, ReadonlyArray<Fault>>>

const noFaults: FaultQueues = { authorize: [], token: [], refresh: [], account: [] }

/** The query of a request URL (path and query, as servers see it). */
const searchParams = (url: string): URLSearchParams => {
  const start = url.indexOf("?")
  return new URLSearchParams(start === -1 ? "" : url.slice(start + 1))
}

// The real endpoint takes a bare flag (`?refresh`); `?refresh=` and `?refresh=1` are the same flag to it.
const hasRefreshFlag = (url: string): boolean => searchParams(url).has("refresh")

const bearerToken = (authorization: string | undefined): string | undefined => {
  const match = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization)
  return match === null ? undefined : match[1]
}

const problemReply = (problem: Store.Problem): Reply.Reply =>
  Reply.error({
    status: problem.status,
    shape: problem.shape,
    errorName: problem.errorName,
    rfcError: problem.rfcError,
    errorMsg: problem.errorMsg,
    errorPath: problem.errorPath
  })

const bearerMessages: Readonly<Record<Store.BearerProblem, string>> = {
  missing: "Unauthorized api key",
  invalid: "Access token is invalid",
  expired: "Access token has expired",
  revoked: "Access token has been revoked"
}

const accountBody = (account: FakeAccount) => ({
  account: {
    account_id: account.accountId,
    email_address: account.emailAddress,
    is_locked: false,
    is_paid_hs: false,
    is_paid_hf: false,
    quotas: {
      api_signature_requests_left: 0,
      documents_left: null,
      templates_total: 0,
      templates_left: 0,
      sms_verifications_left: 0,
      num_fax_pages_left: 0
    },
    callback_url: null,
    role_code: null,
    team_id: null,
    locale: "en-US"
  }
})

const htmlContentType = "text/html; charset=utf-8"

const htmlPage = (status: number): string =>
  `<!DOCTYPE html>\n<html><head><title>${status} Error</title></head>` +
  `<body><h1>${status} Error</h1><p>The server encountered a temporary error.</p></body></html>\n`

const truncate = (reply: Reply.Reply): Reply.Reply => {
  const body = reply.body ?? "{}"
  return { ...reply, body: body.slice(0, Math.max(1, Math.floor(body.length / 2))), contentType: "application/json" }
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
export const make = (options: Options = {}): Effect.Effect<Instance, never, Scope.Scope> =>
  Effect.gen(function*() {
    const firstApp = applyOptions(defaultApp, options.defaultApp ?? {})
    const firstAccount: FakeAccount = { ...defaultAccount, ...definedFields(options.defaultAccount ?? {}) }
    const defaultShape: ErrorShape = options.errorShape ?? "dropbox"
    const limit = options.rateLimit?.limit ?? 100
    const windowMillis = Duration.toMillis(options.rateLimit?.window ?? Duration.minutes(1))
    const enforce = options.rateLimit?.enforce ?? false
    const logRequests = options.logRequests ?? true

    const store = yield* Ref.make(Store.make(firstApp, firstAccount))
    // Requests in progress on the server side; they outlive a client that gave up and end with the fake.
    const inFlight = yield* FiberSet.make<Reply.Reply, SimulatedTransportFault>()
    const faults = yield* Ref.make(noFaults)
    const log = yield* Ref.make(Chunk.empty<LoggedRequest>())
    const counters = yield* Ref.make(noCounters)
    const rateWindow = yield* Ref.make({ start: Number.NEGATIVE_INFINITY, used: 0 })

    const count = (f: (c: Counters) => Counters) => Ref.update(counters, f)

    const takeFault = (route: Route) =>
      Ref.modify(faults, (queues): readonly [Fault | undefined, FaultQueues] => {
        const [head, ...rest] = queues[route]
        return head === undefined ? [undefined, queues] : [head, { ...queues, [route]: rest }]
      })

    const record = (
      route: Route | undefined,
      request: HttpServerRequest.HttpServerRequest,
      body: Body.ParsedBody,
      fault: Fault | undefined,
      counter: keyof Counters | undefined
    ) =>
      Effect.gen(function*() {
        const receivedAt = yield* Clock.currentTimeMillis
        if (logRequests) {
          const entry: LoggedRequest = {
            route,
            method: request.method,
            path: request.url,
            headers: Redact.headers(request.headers),
            contentType: body.contentType,
            body: Redact.body(body.fields),
            malformedBody: body.malformed,
            fault: fault?._tag,
            receivedAt
          }
          yield* Ref.update(log, Chunk.append(entry))
        }
        yield* count((c) => ({
          ...c,
          requests: c.requests + 1,
          ...(counter === undefined ? {} : { [counter]: c[counter] + 1 }),
          faultsInjected: c.faultsInjected + (fault === undefined ? 0 : 1)
        }))
      })

    // A fixed window: remaining counts down per token request and `X-Ratelimit-Reset` is the window's end.
    const rateLimit = (now: number) =>
      Ref.modify(rateWindow, (current) => {
        const window = now >= current.start + windowMillis ? { start: now, used: 0 } : current
        const next = { ...window, used: window.used + 1 }
        return [{
          exceeded: next.used > limit,
          headers: {
            "x-ratelimit-limit": String(limit),
            "x-ratelimit-remaining": String(Math.max(0, limit - next.used)),
            "x-ratelimit-reset": String(Math.ceil((next.start + windowMillis) / 1000))
          }
        }, next] as const
      })

    const applyFault = (
      fault: Fault | undefined,
      normal: Effect.Effect<Reply.Reply>,
      rateHeaders: Readonly<Record<string, string>>
    ): Effect.Effect<Reply.Reply, SimulatedTransportFault> => {
      if (fault === undefined) return normal
      switch (fault._tag) {
        case "Latency":
          return Effect.zipRight(Effect.sleep(fault.duration), normal)
        case "Hang":
          return Effect.never
        case "ConnectionReset":
          return Effect.zipRight(
            fault.processed === true ? normal : Effect.void,
            new SimulatedTransportFault({ kind: "ConnectionReset" })
          )
        case "ConnectionRefused":
          return new SimulatedTransportFault({ kind: "ConnectionRefused" })
        case "Status":
          return Effect.succeed(Reply.error({
            status: fault.status,
            shape: fault.shape ?? defaultShape,
            errorName: fault.errorName ?? Reply.errorNameFor(fault.status),
            errorMsg: fault.errorMsg ?? `Injected fault: HTTP ${fault.status}`,
            errorPath: fault.errorPath,
            headers: { ...rateHeaders, ...fault.headers }
          }))
        case "RateLimited":
          return Effect.map(Clock.currentTimeMillis, (now) =>
            Reply.error({
              status: 429,
              shape: "dropbox",
              errorName: "exceeded_rate",
              errorMsg: "Rate limit exceeded",
              headers: fault.retryAfter === undefined && fault.resetAfter !== undefined ?
                {
                  "x-ratelimit-limit": String(limit),
                  "x-ratelimit-remaining": "0",
                  "x-ratelimit-reset": String(Math.ceil(now / 1000) + fault.resetAfter)
                } :
                { "retry-after": String(fault.retryAfter ?? 1) }
            }))
        case "TruncatedJson":
          return Effect.map(normal, truncate)
        case "WrongContentType":
          return Effect.map(normal, (reply) => ({ ...reply, contentType: "text/plain" }))
        case "HtmlPage": {
          const status = fault.status ?? 502
          return Effect.succeed(Reply.raw(status, htmlPage(status), htmlContentType))
        }
        case "RawBody":
          return Effect.succeed(Reply.raw(fault.status, fault.body, fault.contentType ?? "text/plain"))
      }
    }

    /** Runs one request on `route`: fault, body, log, then `handle` (unless the fault replaces it). */
    const serve = (
      route: Route,
      handle: (body: Body.ParsedBody, request: HttpServerRequest.HttpServerRequest) => Effect.Effect<Reply.Reply>
    ): Effect.Effect<
      HttpServerResponse.HttpServerResponse,
      SimulatedTransportFault,
      HttpServerRequest.HttpServerRequest
    > =>
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const fault = yield* takeFault(route)
        if (fault?._tag === "ConnectionRefused") {
          // A refused connection never reaches the server: not logged, nothing read.
          yield* count((c) => ({ ...c, faultsInjected: c.faultsInjected + 1 }))
          return yield* new SimulatedTransportFault({ kind: "ConnectionRefused" })
        }
        const body = request.method === "GET" || request.method === "HEAD" ?
          Body.empty(request.headers["content-type"]) :
          yield* Body.read(request)
        yield* record(route, request, body, fault, routeCounter[route])
        const tokenRoute = route === "token" || route === "refresh"
        const limits = tokenRoute ? yield* Effect.flatMap(Clock.currentTimeMillis, rateLimit) : undefined
        const rateHeaders = limits?.headers ?? {}
        const normal = Effect.suspend((): Effect.Effect<Reply.Reply> => {
          if (limits !== undefined && limits.exceeded && enforce) {
            return Effect.succeed(
              Reply.error({
                status: 429,
                shape: "dropbox",
                errorName: "exceeded_rate",
                errorMsg: "Rate limit exceeded"
              })
            )
          }
          if (body.malformed) {
            return Effect.succeed(problemReply(Store.badRequest(defaultShape, undefined, "Could not parse the body")))
          }
          return handle(body, request)
        }).pipe(
          Effect.tap((reply) => reply.status >= 400 ? count((c) => ({ ...c, rejected: c.rejected + 1 })) : Effect.void),
          Effect.map((reply) => Reply.withHeaders(reply, rateHeaders))
        )
        // A request that reached the server is carried out even if the client stops waiting (a timeout during a
        // `Latency` fault): the outcome-unknown case is then as real as it is in production.
        const handling = yield* FiberSet.run(inFlight, applyFault(fault, normal, rateHeaders))
        return Reply.render(yield* Fiber.join(handling))
      })

    const countConsent = (consented: boolean) =>
      count((c) =>
        consented ?
          { ...c, consentsGranted: c.consentsGranted + 1 } :
          { ...c, consentsDenied: c.consentsDenied + 1 }
      )

    const authorize = serve("authorize", (_, request) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const fresh = { code: randomToken(), consentId: randomToken() }
        const outcome = yield* Ref.modify(
          store,
          (s) => Authorization.authorize(s, searchParams(request.url), now, fresh, defaultShape)
        )
        switch (outcome._tag) {
          case "Problem":
            return problemReply(outcome.problem)
          case "ConsentPage":
            return Reply.raw(
              200,
              ConsentPage.consent({
                appName: outcome.app.name,
                emailAddress: outcome.account.emailAddress,
                clientId: outcome.app.clientId,
                state: outcome.state,
                consentId: outcome.consentId
              }),
              htmlContentType,
              ConsentPage.headers
            )
          case "Redirect":
            yield* countConsent(outcome.consented)
            return Reply.redirect(outcome.location)
        }
      }))

    // The consent page's form. Faults queued on "authorize" are for the page's GET, so none is taken here.
    const answerConsent = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const body = yield* Body.read(request)
      // Logged on its path's route, counted only in `requests`: `authorizeRequests` counts authorization requests.
      yield* record("authorize", request, body, undefined, undefined)
      const now = yield* Clock.currentTimeMillis
      const code = randomToken()
      const outcome = yield* Ref.modify(store, (s) => Authorization.answerConsent(s, body.fields, now, code))
      if (outcome._tag === "Refused") {
        yield* count((c) => ({ ...c, rejected: c.rejected + 1 }))
        const { message, status } = outcome.refusal
        return Reply.render(Reply.raw(status, ConsentPage.error(status, message), htmlContentType, ConsentPage.headers))
      }
      yield* countConsent(outcome.consented)
      return Reply.render(Reply.redirect(outcome.location))
    })

    const issueTokens = (route: "token" | "refresh", fields: Readonly<Record<string, unknown>>) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const fresh = freshValues()
        const transition = route === "refresh" ? Store.refresh : Store.exchangeCode
        const result = yield* Ref.modify(store, (s) => {
          const [outcome, next] = transition(s, fields, now, fresh, defaultShape)
          return [outcome, next] as const
        })
        if (Either.isLeft(result)) return problemReply(result.left)
        yield* count((c) =>
          route === "refresh" ?
            { ...c, refreshesServed: c.refreshesServed + 1 } :
            { ...c, codesExchanged: c.codesExchanged + 1 }
        )
        const issued = result.right
        return Reply.json(200, {
          access_token: issued.accessToken,
          token_type: "Bearer",
          refresh_token: issued.refreshToken,
          expires_in: issued.expiresIn,
          state: issued.state
        })
      })

    const token = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      const route = hasRefreshFlag(request.url) ? "refresh" : "token"
      return serve(route, (body) => issueTokens(route, body.fields))
    })

    const account = serve("account", (_, request) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const result = Store.bearer(yield* Ref.get(store), bearerToken(request.headers["authorization"]), now)
        if (Either.isRight(result)) return Reply.json(200, accountBody(result.right))
        return Reply.error({
          status: 401,
          shape: "dropbox",
          errorName: "unauthorized",
          errorMsg: bearerMessages[result.left],
          headers: { "www-authenticate": `Bearer error="invalid_token"` }
        })
      }))

    const notFound = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      yield* record(undefined, request, Body.empty(request.headers["content-type"]), undefined, undefined)
      return Reply.render(Reply.error({
        status: 404,
        shape: "dropbox",
        errorName: "not_found",
        errorMsg: `No route for ${request.method} ${request.url.split("?")[0]}`
      }))
    })

    const app: HttpApp.Default<SimulatedTransportFault> = HttpRouter.empty.pipe(
      HttpRouter.get("/oauth/authorize", authorize),
      HttpRouter.post("/oauth/authorize", answerConsent),
      HttpRouter.post("/oauth/token", token),
      HttpRouter.get("/v3/account", account),
      Effect.catchTag("RouteNotFound", () => notFound)
    )

    const service: Service = {
      registerApp: (appOptions = {}) =>
        Effect.gen(function*() {
          const base: FakeApp = {
            ...defaultApp,
            clientId: randomHex(14),
            clientSecret: Redacted.make(randomHex(14))
          }
          const registered = applyOptions(base, appOptions)
          yield* Ref.update(store, (s) => Store.putApp(s, registered))
          return registered
        }),
      updateApp: (clientId, update) =>
        Ref.modify(store, (s) => {
          const current = Store.findApp(s, clientId)
          if (current === undefined) return [undefined, s] as const
          const updated = applyOptions(current, { ...update, clientId })
          return [updated, Store.putApp(s, updated)] as const
        }).pipe(Effect.flatMap(Effect.fromNullable)),
      registerAccount: (accountOptions = {}) =>
        Effect.gen(function*() {
          const accountId = accountOptions.accountId ?? randomHex(20)
          const registered: FakeAccount = {
            accountId,
            emailAddress: accountOptions.emailAddress ?? `user-${accountId.slice(0, 8)}@example.com`,
            name: accountOptions.name
          }
          yield* Ref.update(store, (s) => Store.putAccount(s, registered))
          return registered
        }),
      signIn: (accountId) =>
        Ref.modify(store, (s) =>
          Store.hasAccount(s, accountId) ?
            [true, { ...s, signedIn: accountId }] as const :
            [false, s] as const).pipe(
            Effect.flatMap((found) => found ? Effect.void : new Cause.NoSuchElementException(`No account ${accountId}`))
          ),
      issueCode: (codeOptions) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const code = randomToken()
          const result = yield* Ref.modify(store, (s): readonly [
            Either.Either<Redacted.Redacted<string>, Cause.NoSuchElementException>,
            Store.Store
          ] => {
            const issued = Store.issueCode(
              s,
              {
                clientId: codeOptions.clientId ?? firstApp.clientId,
                accountId: codeOptions.accountId ?? s.signedIn,
                state: codeOptions.state
              },
              now,
              code
            )
            return Either.isRight(issued) ?
              [Either.right(Redacted.make(code)), issued.right] as const :
              [Either.left(new Cause.NoSuchElementException(`No such ${issued.left}`)), s] as const
          })
          return yield* result
        }),
      denyNextConsent: Ref.update(store, (s) => ({ ...s, denials: s.denials + 1 })),
      revokeGrant: (filter = {}) => Ref.modify(store, (s) => Store.revokeGrants(s, filter)),
      expireAllTokens: Effect.flatMap(
        Clock.currentTimeMillis,
        (now) => Ref.update(store, (s) => Store.expireAccessTokens(s, now))
      ),
      injectFault: (route, fault, times = 1) =>
        Ref.update(faults, (queues) => ({
          ...queues,
          [route]: [...queues[route], ...Array.from({ length: Math.max(0, times) }, () => fault)]
        })),
      clearFaults: Ref.set(faults, noFaults),
      requests: Effect.map(Ref.get(log), Chunk.toReadonlyArray),
      counters: Ref.get(counters),
      grants: Effect.map(Ref.get(store), (s) =>
        Store.grantSnapshots(s).map((grant): GrantInfo => ({
          ...grant,
          refreshToken: Redacted.make(grant.refreshToken)
        }))),
      resetLog: Effect.zipRight(Ref.set(log, Chunk.empty()), Ref.set(counters, noCounters))
    }

    return { service, app }
  })

const definedFields = (options: AccountOptions): Partial<FakeAccount> => {
  const out: { accountId?: string; emailAddress?: string; name?: string } = {}
  if (options.accountId !== undefined) out.accountId = options.accountId
  if (options.emailAddress !== undefined) out.emailAddress = options.emailAddress
  if (options.name !== undefined) out.name = options.name
  return out
}

// -----------------------------------------------------------------------------
// layers
// -----------------------------------------------------------------------------

/** What a client sees of a simulated broken connection: a Node system error, as undici and fetch report it. */
const systemError = (fault: SimulatedTransportFault): Error =>
  fault.kind === "ConnectionReset" ?
    Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET", errno: -104, syscall: "read" }) :
    Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED", errno: -111, syscall: "connect" })

const toClientError = (
  fault: SimulatedTransportFault,
  request: HttpClientRequest.HttpClientRequest
): HttpClientError.HttpClientError =>
  new HttpClientError.RequestError({
    request,
    reason: "Transport",
    cause: systemError(fault),
    description: `FakeDropboxSign: simulated ${fault.kind}`
  })

/**
 * The fake with an in-memory `HttpClient` that serves every request, whatever its host, without a socket. Requests
 * run in the caller's fiber, so `TestClock` drives expiry and latency.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClientWith = (options: Options = {}): Layer.Layer<FakeDropboxSign | HttpClient.HttpClient> =>
  Layer.scopedContext(
    Effect.map(make(options), ({ app, service }) =>
      Context.make(FakeDropboxSign, service).pipe(
        Context.add(HttpClient.HttpClient, InMemoryClient.make(app, toClientError))
      ))
  )

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

/** Over TCP a broken connection is a reset socket; the client sees `ECONNRESET` (or "other side closed"). */
const withSocketFaults = (
  app: HttpApp.Default<SimulatedTransportFault>
): HttpApp.Default<never> =>
  Effect.catchTag(app, "SimulatedTransportFault", () =>
    Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
      NodeHttpServerRequest.toIncomingMessage(request).socket.resetAndDestroy()
      // Written to a destroyed socket: nobody reads it.
      return HttpServerResponse.empty({ status: 500 })
    }))

/**
 * The fake served by a real HTTP server on `127.0.0.1`, for end-to-end tests, other processes and benchmarks.
 * `FakeDropboxSignServer` gives its URLs. On release every connection is closed, hanging ones included.
 *
 * The server's handlers run with the services of the fiber that built the layer: built inside `it.effect` they use
 * `TestClock` (so `Latency` waits for `TestClock.adjust`); use `it.live` or `layer(..., { excludeTestServices: true })`
 * for the live clock.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerServer = (
  options: ServerOptions = {}
): Layer.Layer<FakeDropboxSign | FakeDropboxSignServer, HttpServerError.ServeError> =>
  Layer.unwrapEffect(Effect.sync(() => {
    const nodeServer = Http.createServer()
    const served = Layer.scopedContext(Effect.gen(function*() {
      const { app, service } = yield* make(options)
      const server = yield* HttpServer.HttpServer
      // Registered after the server started, so it runs before the server's own close, which would otherwise wait
      // for hanging requests and keep-alive connections.
      yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer.closeAllConnections()))
      yield* HttpServer.serveEffect(withSocketFaults(app))
      const port = server.address._tag === "TcpAddress" ? server.address.port : 0
      const url = `http://127.0.0.1:${port}`
      return Context.make(FakeDropboxSign, service).pipe(
        Context.add(FakeDropboxSignServer, { url, oauthUrl: url, apiUrl: `${url}/v3` })
      )
    }))
    return Layer.provide(served, NodeHttpServer.layer(() => nodeServer, { port: options.port ?? 0, host: "127.0.0.1" }))
  }))
