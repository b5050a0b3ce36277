/**
 * "Connect Dropbox Sign" for a web application: an `HttpRouter` with `GET /connect`, `GET /callback` and
 * `POST /disconnect`, to mount under a prefix of any `@effect/platform` HTTP server. The state is bound to the browser
 * in an encrypted `HttpOnly`, `SameSite=Lax` cookie; the application names the account from its own session.
 *
 * @since 0.1.0
 */
import type { HttpRouter, HttpServerRequest } from "@effect/platform"
import type { Redacted } from "effect"
import { Config, type ConfigError, Context, type Duration, Effect, Layer, Schema } from "effect"

import type * as AccountId from "./AccountId.js"
import * as config from "./internal/authorizationConfig.js"
import * as internal from "./internal/authorizationRoutes.js"
import type { OAuthClient } from "./OAuthClient.js"
import type { OAuthApiError, RateLimitedError, ResponseDecodeError, ServerError, TransportError } from "./OAuthError.js"
import type {
  AuthorizationDeniedError,
  InvalidCallbackError,
  ReauthorizationRequiredError,
  StaleTokenError,
  StateMismatchError,
  TokenNotFoundError,
  TokenStoreError
} from "./TokenError.js"
import type { TokenManager } from "./TokenManager.js"

/**
 * Environment variable names read by `layerConfig()`.
 *
 * @since 0.1.0
 * @category constants
 */
export const env = {
  /** The secret that encrypts the state cookie and the disconnect proofs: at least 32 bytes of random data. */
  cookieKey: "DROPBOX_SIGN_COOKIE_KEY"
} as const

/**
 * The shortest accepted `cookieKey`, in bytes.
 *
 * @since 0.1.0
 * @category constants
 */
export const minimumKeyBytes: number = config.minimumKeyBytes

/**
 * The default lifetime of a started authorization.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultStateLifetime: Duration.Duration = config.defaultStateLifetime

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultCookieName: string = config.defaultCookieName

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Encrypts and authenticates the state cookie and the disconnect proofs; at least 32 bytes. */
  readonly cookieKey: Redacted.Redacted<string>
  /** Default `dropbox_sign_oauth`. */
  readonly cookieName?: string | undefined
  /** How long a started authorization may take, consent included; default 10 minutes. */
  readonly stateLifetime?: Duration.DurationInput | undefined
  /** Default: `Secure` unless the request's host is loopback (`localhost`, `127.0.0.0/8`, `[::1]`). */
  readonly secureCookie?: boolean | undefined
  /** How long a proof from `disconnectToken` is accepted; default 1 hour. */
  readonly disconnectTokenLifetime?: Duration.DurationInput | undefined
}

/**
 * The resolved settings of the routes.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The AES-256-GCM key, derived with HKDF from `Options.cookieKey`. */
  readonly key: Redacted.Redacted<Uint8Array>
  readonly cookieName: string
  readonly stateLifetime: Duration.Duration
  readonly secureCookie: boolean | undefined
  readonly disconnectTokenLifetime: Duration.Duration
}

/**
 * @since 0.1.0
 * @category tags
 */
export class AuthorizationRoutes
  extends Context.Tag("@dropbox-sign-effect/oauth/AuthorizationRoutes")<AuthorizationRoutes, Service>()
{}

/**
 * Resolves options: a `ConfigError` when the key is shorter than `minimumKeyBytes`, the cookie name is not a cookie
 * token, or a lifetime is not a finite duration of at least a second.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, ConfigError.ConfigError> => config.make(options)

/**
 * The cookie key from configuration (default `DROPBOX_SIGN_COOKIE_KEY`): a `ConfigError` naming the variable when it
 * is missing or too short. The message never contains the key.
 *
 * @since 0.1.0
 * @category config
 */
export const cookieKeyConfig = (
  name: string = env.cookieKey
): Config.Config<Redacted.Redacted<string>> => config.cookieKeyConfig(name)

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<AuthorizationRoutes, ConfigError.ConfigError> =>
  Layer.effect(AuthorizationRoutes, make(options))

/**
 * The options from configuration; by default the key from `DROPBOX_SIGN_COOKIE_KEY` and defaults for the rest.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * ```ts
 * import { AuthorizationRoutes } from "@dropbox-sign-effect/oauth"
 * import { Config } from "effect"
 *
 * const RoutesLive = AuthorizationRoutes.layerConfig({
 *   cookieKey: AuthorizationRoutes.cookieKeyConfig("MY_APP_COOKIE_KEY"),
 *   stateLifetime: Config.succeed("5 minutes")
 * })
 * ```
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options> = { cookieKey: cookieKeyConfig() }
): Layer.Layer<AuthorizationRoutes, ConfigError.ConfigError> =>
  Layer.effect(AuthorizationRoutes, Effect.flatMap(Config.unwrap(config), make))

/**
 * The state cookie of a callback is missing (never set, expired in the browser, or already used by an earlier
 * callback), cannot be opened (altered, or sealed with another key), has expired, or was issued to another account.
 *
 * @since 0.1.0
 * @category errors
 */
export class StateCookieError
  extends Schema.TaggedError<StateCookieError>("@dropbox-sign-effect/oauth/StateCookieError")("StateCookieError", {
    reason: Schema.Literal("missing", "invalid", "expired", "other_account")
  })
{
  override get message(): string {
    return `The authorization state cookie is ${this.reason.replace("_", " ")}; the callback was refused`
  }
}

/**
 * A disconnect request without a valid proof from `disconnectToken` (missing, altered, expired, issued to another
 * account) or sent by another site's page.
 *
 * @since 0.1.0
 * @category errors
 */
export class CrossSiteRequestError
  extends Schema.TaggedError<CrossSiteRequestError>("@dropbox-sign-effect/oauth/CrossSiteRequestError")(
    "CrossSiteRequestError",
    { reason: Schema.Literal("missing_proof", "invalid_proof", "expired_proof", "other_account", "cross_site") }
  )
{
  override get message(): string {
    return `The disconnect request was refused (${this.reason.replace("_", " ")})`
  }
}

/**
 * Which route failed.
 *
 * @since 0.1.0
 * @category models
 */
export type Route = "connect" | "callback" | "disconnect"

interface FailureOf<Reason extends string, Error> {
  readonly route: Route
  readonly reason: Reason
  /** The HTTP status of the page; a redirect to `failureUrl` is a 303 instead. */
  readonly status: number
  readonly error: Error
}

/**
 * A failed request, as the `onFailure` hook sees it: `reason` names the case (and narrows `error`), `status` is
 * what the page answers. `E` is the error of the application's `resolveAccount`.
 *
 * @since 0.1.0
 * @category models
 */
export type Failure<E> =
  | FailureOf<"unauthenticated", E>
  | FailureOf<"invalid_state", StateCookieError | StateMismatchError | InvalidCallbackError>
  | FailureOf<"denied", AuthorizationDeniedError>
  | FailureOf<"exchange_refused", OAuthApiError>
  | FailureOf<"unavailable", TransportError | ServerError | RateLimitedError | ResponseDecodeError>
  | FailureOf<"forbidden", CrossSiteRequestError>
  | FailureOf<"internal", TokenStoreError | StaleTokenError | ReauthorizationRequiredError | TokenNotFoundError>

/**
 * What a failure is called in the `dropbox_sign_error` query parameter of a redirect to `failureUrl`.
 *
 * @since 0.1.0
 * @category models
 */
export type FailureReason = Failure<unknown>["reason"]

/**
 * The query parameter that carries the `FailureReason` on a redirect to `failureUrl`.
 *
 * @since 0.1.0
 * @category constants
 */
export const failureParam = "dropbox_sign_error"

/**
 * The form field (or `x-dropbox-sign-disconnect-token` header) that carries the proof from `disconnectToken`.
 *
 * @since 0.1.0
 * @category constants
 */
export const disconnectTokenField = "dropbox_sign_disconnect_token"

/**
 * The header that may carry the proof from `disconnectToken` instead of the form field (for `fetch` from a page).
 *
 * @since 0.1.0
 * @category constants
 */
export const disconnectTokenHeader: string = internal.disconnectTokenHeader

/**
 * @since 0.1.0
 * @category models
 */
export interface RouterOptions<E, R> {
  /** The account of the signed-in user, from the application's own session; its failure answers 401. */
  readonly resolveAccount: (
    request: HttpServerRequest.HttpServerRequest
  ) => Effect.Effect<AccountId.AccountId, E, R>
  /** Where a connected user is sent; default `/`. */
  readonly successUrl?: string | undefined
  /** Where failures are sent, with `?dropbox_sign_error=<reason>`; by default a short page with the failure's status. */
  readonly failureUrl?: string | undefined
  /** Where a disconnected user is sent; default `successUrl`. */
  readonly disconnectedUrl?: string | undefined
  /** Serve `POST /disconnect`; default true. */
  readonly disconnect?: boolean | undefined
  /** Observes every failure with its typed error, before the answer is sent. */
  readonly onFailure?: ((failure: Failure<E>) => Effect.Effect<void, never, R>) | undefined
}

/**
 * The routes, relative to where they are mounted: `GET /connect`, `GET /callback` (the callback URL registered on the
 * Dropbox Sign API app is `<prefix>/callback`) and `POST /disconnect`. No failure escapes: each answers a page (or a
 * redirect to `failureUrl`) and reaches `onFailure`. No code, token or key appears in a URL, page, log or span: the
 * callback rewrites the server span's `url.*` attributes without the code and turns off
 * `HttpMiddleware.logger`'s line for itself.
 *
 * @since 0.1.0
 * @category routers
 * @example
 * ```ts
 * import { AccountId, AuthorizationRoutes } from "@dropbox-sign-effect/oauth"
 * import { HttpRouter } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * const routes = AuthorizationRoutes.router({
 *   // Your session decides who is connecting; here, a header set by an upstream proxy.
 *   resolveAccount: (request) => Effect.fromNullable(request.headers["x-user-id"]).pipe(Effect.map(AccountId.make)),
 *   successUrl: "/account",
 *   onFailure: (failure) => Effect.logWarning("Dropbox Sign connection failed", failure.reason)
 * })
 *
 * const app = HttpRouter.empty.pipe(HttpRouter.mount("/dropbox-sign", routes))
 * ```
 */
export const router: <E, R>(
  options: RouterOptions<E, R>
) => HttpRouter.HttpRouter<never, AuthorizationRoutes | TokenManager | OAuthClient | R> = (options) =>
  internal.router(options)

/**
 * A proof for `POST /disconnect` by `account`: put it in the disconnect form's `disconnectTokenField` field. It is
 * valid for `disconnectTokenLifetime` and only for that account, and no other site can read it from your page.
 *
 * @since 0.1.0
 * @category constructors
 */
export const disconnectToken = (account: AccountId.AccountId): Effect.Effect<string, never, AuthorizationRoutes> =>
  internal.disconnectToken(account)
