/**
 * Configuration of the OAuth client: credentials, endpoints and policies, from code or from the environment.
 *
 * @since 0.1.0
 */
import type { Redacted } from "effect"
import { Config, ConfigError, Context, Duration, Effect, Either, Layer, Schedule } from "effect"

import { validateBaseUrl } from "./internal/baseUrl.js"
import { defaultMaxResponseBytes, defaultMinTokenLifetime, defaultUserAgent } from "./internal/defaults.js"
import type { OAuthError } from "./OAuthError.js"
import * as RetryPolicy from "./RetryPolicy.js"

/**
 * Where the refresh window opens: `ratio` of the token's lifetime before expiry, at most `max`, shifted earlier by a
 * random share of up to `jitter` of itself so that a fleet of processes does not refresh in the same instant.
 *
 * @since 0.1.0
 * @category models
 */
export interface RefreshWindow {
  readonly ratio: number
  readonly max: Duration.Duration
  readonly jitter: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  /** Default `https://app.hellosign.com`. */
  readonly oauthUrl?: string | undefined
  /** Default `https://api.hellosign.com/v3`. */
  readonly apiUrl?: string | undefined
  /** Per attempt; default 10 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** Backoff between attempts; default `RetryPolicy.defaultSchedule`. Which failures are retried is fixed by safety. */
  readonly retrySchedule?: Schedule.Schedule<unknown, OAuthError> | undefined
  /** A 429 advertising a longer wait than this fails at once with `RateLimitedError`; default 1 minute. */
  readonly maxRateLimitWait?: Duration.DurationInput | undefined
  /** Send `client_id` / `client_secret` with refresh requests (required by newer API apps); default true. */
  readonly sendClientCredentialsOnRefresh?: boolean | undefined
  /** The `User-Agent` of token requests; default `dropbox-sign-effect/<version>`. */
  readonly userAgent?: string | undefined
  /**
   * The most a token-endpoint answer may hold, in bytes; default 65,536 (64 KiB, a token answer is under 2 KB). A larger
   * body is not read past the limit: on a 2XX it is a `ResponseDecodeError`.
   */
  readonly maxResponseBytes?: number | undefined
  /**
   * The shortest token lifetime (`expires_in`) accepted; default 60 seconds. A shorter one is a `ResponseDecodeError`,
   * so that no answer can make every call a token request.
   */
  readonly minTokenLifetime?: Duration.DurationInput | undefined
  /** Default: 10% of the lifetime, at most 5 minutes, 20% jitter. */
  readonly refreshWindow?:
    | Partial<{
      readonly ratio: number
      readonly max: Duration.DurationInput
      readonly jitter: number
    }>
    | undefined
}

/**
 * The resolved configuration: every option has its value.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly oauthUrl: string
  readonly apiUrl: string
  readonly requestTimeout: Duration.Duration
  readonly retrySchedule: Schedule.Schedule<unknown, OAuthError>
  readonly maxRateLimitWait: Duration.Duration
  readonly sendClientCredentialsOnRefresh: boolean
  readonly refreshWindow: RefreshWindow
  readonly userAgent: string
  readonly maxResponseBytes: number
  readonly minTokenLifetime: Duration.Duration
}

/**
 * @since 0.1.0
 * @category tags
 */
export class OAuthConfig extends Context.Tag("@dropbox-sign-effect/oauth/OAuthConfig")<OAuthConfig, Service>() {}

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultOAuthUrl = "https://app.hellosign.com"

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultApiUrl = "https://api.hellosign.com/v3"

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultRefreshWindow: RefreshWindow = { ratio: 0.1, max: Duration.minutes(5), jitter: 0.2 }

/**
 * Environment variable names read by `fromEnv`.
 *
 * @since 0.1.0
 * @category constants
 */
export const env = {
  clientId: "DROPBOX_SIGN_CLIENT_ID",
  clientSecret: "DROPBOX_SIGN_CLIENT_SECRET",
  oauthUrl: "DROPBOX_SIGN_OAUTH_URL",
  apiUrl: "DROPBOX_SIGN_API_URL",
  requestTimeout: "DROPBOX_SIGN_REQUEST_TIMEOUT",
  sendClientCredentialsOnRefresh: "DROPBOX_SIGN_SEND_CLIENT_CREDENTIALS_ON_REFRESH"
} as const

const baseUrl = (name: string, input: string) =>
  Either.mapLeft(validateBaseUrl(input), (reason) => ConfigError.InvalidData([name], reason))

const checkRatio = (name: string, value: number, max: number) =>
  Number.isFinite(value) && value >= 0 && value <= max ?
    Either.right(value) :
    Either.left(ConfigError.InvalidData([name], `must be a number between 0 and ${max}`))

/**
 * Resolves options, refusing `http://` base URLs on non-loopback hosts and out-of-range values.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, ConfigError.ConfigError> =>
  Effect.gen(function*() {
    if (options.clientId.trim() === "") {
      return yield* Effect.fail(ConfigError.InvalidData([env.clientId], "must not be empty"))
    }
    const oauthUrl = yield* baseUrl(env.oauthUrl, options.oauthUrl ?? defaultOAuthUrl)
    const apiUrl = yield* baseUrl(env.apiUrl, options.apiUrl ?? defaultApiUrl)
    const ratio = yield* checkRatio(
      "refreshWindow.ratio",
      options.refreshWindow?.ratio ?? defaultRefreshWindow.ratio,
      1
    )
    const jitter = yield* checkRatio(
      "refreshWindow.jitter",
      options.refreshWindow?.jitter ?? defaultRefreshWindow.jitter,
      1
    )
    const userAgent = options.userAgent ?? defaultUserAgent
    // A header value: visible ASCII and spaces, nothing that could end the header line.
    if (!/^[\x20-\x7E]+$/.test(userAgent)) {
      return yield* Effect.fail(ConfigError.InvalidData(["userAgent"], "must be printable ASCII on one line"))
    }
    const maxResponseBytes = options.maxResponseBytes ?? defaultMaxResponseBytes
    if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes < 1) {
      return yield* Effect.fail(ConfigError.InvalidData(["maxResponseBytes"], "must be a positive whole number"))
    }
    return {
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      oauthUrl,
      apiUrl,
      requestTimeout: Duration.decode(options.requestTimeout ?? Duration.seconds(10)),
      retrySchedule: options.retrySchedule ?? RetryPolicy.defaultSchedule,
      maxRateLimitWait: Duration.decode(options.maxRateLimitWait ?? Duration.minutes(1)),
      sendClientCredentialsOnRefresh: options.sendClientCredentialsOnRefresh ?? true,
      refreshWindow: {
        ratio,
        jitter,
        max: Duration.decode(options.refreshWindow?.max ?? defaultRefreshWindow.max)
      },
      userAgent,
      maxResponseBytes,
      minTokenLifetime: Duration.decode(options.minTokenLifetime ?? defaultMinTokenLifetime)
    }
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<OAuthConfig, ConfigError.ConfigError> =>
  Layer.effect(OAuthConfig, make(options))

/**
 * The options read from the documented environment names (`env`), one `Config` per option: pass it to `layerConfig`
 * as it is, or spread it and replace some entries (`{ ...OAuthConfig.fromEnv, requestTimeout: Config.succeed("5
 * seconds") }`). A missing client id or secret fails with a `ConfigError` naming the variable.
 *
 * @since 0.1.0
 * @category config
 */
export const fromEnv = {
  clientId: Config.nonEmptyString(env.clientId),
  clientSecret: Config.redacted(env.clientSecret),
  oauthUrl: Config.string(env.oauthUrl).pipe(Config.withDefault(defaultOAuthUrl)),
  apiUrl: Config.string(env.apiUrl).pipe(Config.withDefault(defaultApiUrl)),
  requestTimeout: Config.duration(env.requestTimeout).pipe(Config.withDefault(Duration.seconds(10))),
  sendClientCredentialsOnRefresh: Config.boolean(env.sendClientCredentialsOnRefresh).pipe(Config.withDefault(true))
} satisfies Config.Config.Wrap<Options>

/**
 * The configuration from a `ConfigProvider` (the environment unless the application set another): `config` defaults
 * to `fromEnv`, the documented `DROPBOX_SIGN_*` names. Provides what `layer` provides.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * ```ts
 * import { OAuthConfig } from "@dropbox-sign-effect/oauth"
 * import { Config } from "effect"
 *
 * // The environment's names, with a shorter timeout and the secret from another variable.
 * const ConfigLive = OAuthConfig.layerConfig({
 *   ...OAuthConfig.fromEnv,
 *   clientSecret: Config.redacted("MY_APP_DROPBOX_SIGN_SECRET"),
 *   requestTimeout: Config.succeed("5 seconds")
 * })
 * ```
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options> = fromEnv
): Layer.Layer<OAuthConfig, ConfigError.ConfigError> =>
  Layer.effect(OAuthConfig, Effect.flatMap(Config.unwrap(config), make))

/**
 * A schedule that never retries: for callers who own their retry policy.
 *
 * @since 0.1.0
 * @category constants
 */
export const noRetries: Schedule.Schedule<unknown, OAuthError> = Schedule.stop
