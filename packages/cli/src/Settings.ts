/**
 * Options shared by the commands and how they resolve: each setting comes from its flag, else from its environment
 * variable (read through `Config`, so tests give a `ConfigProvider`), else from its default.
 *
 * @since 0.1.0
 */
import * as Os from "node:os"

import type { OAuthApi, OAuthClient } from "@dropbox-sign-effect/oauth"
import {
  AccountId,
  DropboxSignHttpClient,
  OAuthConfig,
  TokenCipher,
  TokenManager,
  TokenStore
} from "@dropbox-sign-effect/oauth"
import { HelpDoc, Options, ValidationError } from "@effect/cli"
import type { HttpClient } from "@effect/platform"
import { FileSystem, Path } from "@effect/platform"
import { Config, Duration, Effect, Either, Layer, Logger, LogLevel, Option, Redacted, Schema } from "effect"

import { CliError, fromConfigError, fromTokenError } from "./CliError.js"

/**
 * Overrides the token directory (default `$XDG_CONFIG_HOME/dropbox-sign-oauth`, else `~/.config/dropbox-sign-oauth`).
 *
 * @since 0.1.0
 * @category constants
 */
export const storeDirEnv = "DROPBOX_SIGN_TOKEN_DIR"

/**
 * Sets an option's default and says it in `--help` (`Default: 8765.`), which `Options.withDefault` alone does not.
 *
 * @since 0.1.0
 * @category options
 */
export const withShownDefault =
  <A>(value: A, shown: string = typeof value === "string" ? JSON.stringify(value) : String(value)) =>
  (self: Options.Options<A>): Options.Options<A> =>
    self.pipe(Options.withDescription(`Default: ${shown}.`), Options.withDefault(value))

/**
 * A boolean flag, off unless given (and `--help` says so).
 *
 * @since 0.1.0
 * @category options
 */
export const flag = (name: string, description: string): Options.Options<boolean> =>
  Options.boolean(name).pipe(Options.withDescription(description), Options.withDescription("Default: off."))

/**
 * An integer flag within `[min, max]`. A value outside is one plain line (`--port must be an integer from 0 to
 * 65535, got 99999`) rather than a Schema error tree.
 *
 * @since 0.1.0
 * @category options
 */
export const integerIn = (
  name: string,
  range: { readonly min: number; readonly max?: number | undefined }
): Options.Options<number> =>
  Options.integer(name).pipe(
    Options.mapEffect((value) =>
      value >= range.min && (range.max === undefined || value <= range.max) ?
        Effect.succeed(value) :
        Effect.fail(ValidationError.invalidValue(HelpDoc.p(
          `--${name} must be an integer ${
            range.max === undefined ? `of at least ${range.min}` : `from ${range.min} to ${range.max}`
          }, got ${value}`
        )))
    )
  )

/**
 * The flags of the OAuth app's configuration.
 *
 * @since 0.1.0
 * @category options
 */
export const clientOptions = {
  clientId: Options.text("client-id").pipe(
    Options.withDescription(`The API app's OAuth client id (default: $${OAuthConfig.env.clientId})`),
    Options.optional
  ),
  clientSecret: Options.redacted("client-secret").pipe(
    Options.withDescription(
      `The API app's OAuth client secret (default: $${OAuthConfig.env.clientSecret}; prefer the variable, since ` +
        "other users can see command lines)"
    ),
    Options.optional
  ),
  oauthUrl: Options.text("oauth-url").pipe(
    Options.withDescription(
      `Base URL of /oauth/authorize and /oauth/token (default: $${OAuthConfig.env.oauthUrl}, else ` +
        `${OAuthConfig.defaultOAuthUrl})`
    ),
    Options.optional
  ),
  apiUrl: Options.text("api-url").pipe(
    Options.withDescription(
      `Base URL of the API (default: $${OAuthConfig.env.apiUrl}, else ${OAuthConfig.defaultApiUrl})`
    ),
    Options.optional
  )
}

/**
 * The flags every command has: the token directory and `--verbose`.
 *
 * @since 0.1.0
 * @category options
 */
export const commonOptions = {
  storeDir: Options.text("store-dir").pipe(
    Options.withDescription(
      `Directory of the token store (default: $${storeDirEnv}, else $XDG_CONFIG_HOME/dropbox-sign-oauth, else ` +
        `~/.config/dropbox-sign-oauth). Tokens are encrypted when $${TokenCipher.defaultConfigName} is set`
    ),
    Options.optional
  ),
  verbose: flag("verbose", "Print the library's logs (debug level) on stderr").pipe(Options.withAlias("v"))
}

/**
 * `--account`, default `default`.
 *
 * @since 0.1.0
 * @category options
 */
export const accountOption = Options.text("account").pipe(
  Options.withAlias("a"),
  Options.mapEffect((name) =>
    Either.match(Schema.decodeEither(AccountId.AccountId)(name), {
      onLeft: () =>
        Effect.fail(
          ValidationError.invalidValue(
            HelpDoc.p("--account must be a name of 1 to 255 characters without leading or trailing spaces")
          )
        ),
      onRight: Effect.succeed
    })
  ),
  Options.withDescription("The account's id in the token store (any non-empty name you choose)"),
  withShownDefault(AccountId.defaultAccount)
)

/**
 * @since 0.1.0
 * @category models
 */
export interface ClientFlags {
  readonly clientId: Option.Option<string>
  readonly clientSecret: Option.Option<Redacted.Redacted<string>>
  readonly oauthUrl: Option.Option<string>
  readonly apiUrl: Option.Option<string>
}

const nonEmpty = <A>(value: Option.Option<A>, text: (a: A) => string): Option.Option<A> =>
  Option.filter(value, (a) => text(a).trim() !== "")

const fromFlagOrEnv = <A>(
  flag: Option.Option<A>,
  config: Config.Config<A>,
  text: (a: A) => string
): Effect.Effect<Option.Option<A>, CliError> =>
  Option.isSome(flag) ?
    Effect.succeed(nonEmpty(flag, text)) :
    Effect.map(Config.option(config), (value) => nonEmpty(value, text)).pipe(Effect.mapError(fromConfigError))

const required = <A>(value: Option.Option<A>, name: string, flag: string): Effect.Effect<A, CliError> =>
  Option.match(value, {
    onNone: () => Effect.fail(new CliError({ message: `Missing ${name}: set it or pass ${flag}` })),
    onSome: Effect.succeed
  })

// Only to test emptiness: the value never leaves this function.
const redactedText = (value: Redacted.Redacted<string>): string => Redacted.value(value)

/**
 * The OAuth configuration from flags, then the environment, then the defaults. A missing client id or secret fails
 * with `Missing DROPBOX_SIGN_CLIENT_ID: set it or pass --client-id`.
 *
 * @since 0.1.0
 * @category resolution
 */
export const resolveOAuthConfig = (flags: ClientFlags): Effect.Effect<OAuthConfig.Service, CliError> =>
  Effect.gen(function*() {
    const env = OAuthConfig.env
    const clientId = yield* fromFlagOrEnv(flags.clientId, Config.string(env.clientId), (s) => s).pipe(
      Effect.flatMap((value) => required(value, env.clientId, "--client-id"))
    )
    const clientSecret = yield* fromFlagOrEnv(flags.clientSecret, Config.redacted(env.clientSecret), redactedText)
      .pipe(Effect.flatMap((value) => required(value, env.clientSecret, "--client-secret")))
    const oauthUrl = yield* fromFlagOrEnv(flags.oauthUrl, Config.string(env.oauthUrl), (s) => s)
    const apiUrl = yield* fromFlagOrEnv(flags.apiUrl, Config.string(env.apiUrl), (s) => s)
    const requestTimeout = yield* Config.duration(env.requestTimeout).pipe(
      Config.withDefault(Duration.seconds(10)),
      Effect.mapError(fromConfigError)
    )
    const sendClientCredentialsOnRefresh = yield* Config.boolean(env.sendClientCredentialsOnRefresh).pipe(
      Config.withDefault(true),
      Effect.mapError(fromConfigError)
    )
    return yield* OAuthConfig.make({
      clientId,
      clientSecret,
      oauthUrl: Option.getOrUndefined(oauthUrl),
      apiUrl: Option.getOrUndefined(apiUrl),
      requestTimeout,
      sendClientCredentialsOnRefresh
    }).pipe(Effect.mapError(fromConfigError))
  })

/**
 * The token directory: `--store-dir`, else `$DROPBOX_SIGN_TOKEN_DIR`, else `$XDG_CONFIG_HOME/dropbox-sign-oauth`,
 * else `$HOME/.config/dropbox-sign-oauth`. Relative paths are resolved against the working directory.
 *
 * @since 0.1.0
 * @category resolution
 */
export const resolveStoreDir = (flag: Option.Option<string>): Effect.Effect<string, CliError, Path.Path> =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const text = (s: string) => s
    const explicit = yield* fromFlagOrEnv(flag, Config.string(storeDirEnv), text)
    if (Option.isSome(explicit)) return path.resolve(explicit.value)
    const xdg = yield* fromFlagOrEnv(Option.none(), Config.string("XDG_CONFIG_HOME"), text)
    // The XDG spec says to ignore a relative XDG_CONFIG_HOME.
    if (Option.isSome(xdg) && path.isAbsolute(xdg.value)) return path.join(xdg.value, "dropbox-sign-oauth")
    const home = yield* fromFlagOrEnv(Option.none(), Config.string("HOME"), text)
    return path.join(Option.getOrElse(home, () => Os.homedir()), ".config", "dropbox-sign-oauth")
  })

/**
 * The file store in `directory`, encrypted when `DROPBOX_SIGN_TOKEN_ENCRYPTION_KEY` is set.
 *
 * @since 0.1.0
 * @category layers
 */
export const storeLayer = (
  directory: string
): Layer.Layer<TokenStore.TokenStore, CliError, FileSystem.FileSystem | Path.Path> =>
  Layer.unwrapEffect(
    Effect.map(
      fromFlagOrEnv(Option.none(), Config.string(TokenCipher.defaultConfigName), (s) => s),
      (key) =>
        Option.isSome(key) ?
          TokenStore.layerFileSystem(directory, { encrypted: true }).pipe(
            Layer.provide(Layer.mapError(TokenCipher.layerConfig(), fromConfigError))
          ) :
          TokenStore.layerFileSystem(directory)
    )
  ).pipe(Layer.mapError((error) => error._tag === "CliError" ? error : fromTokenError(error, "")))

/**
 * Everything a command that talks to Dropbox Sign needs, given an `HttpClient`. The background refresher is off:
 * a command is short-lived and refreshes on demand.
 *
 * @since 0.1.0
 * @category layers
 */
export const servicesLayer = (
  config: OAuthConfig.Service,
  directory: string,
  options?: TokenManager.Options | undefined
): Layer.Layer<
  | DropboxSignHttpClient.DropboxSignHttpClient
  | TokenManager.TokenManager
  | OAuthClient.OAuthClient
  | OAuthApi.OAuthApi
  | TokenStore.TokenStore
  | OAuthConfig.OAuthConfig,
  CliError,
  HttpClient.HttpClient | FileSystem.FileSystem | Path.Path
> =>
  DropboxSignHttpClient.layer.pipe(
    Layer.provideMerge(TokenManager.layerWithClient({ backgroundRefresh: false, ...options })),
    Layer.provideMerge(storeLayer(directory)),
    Layer.provideMerge(Layer.succeed(OAuthConfig.OAuthConfig, config))
  )

/**
 * Whether the token directory exists, so that read-only commands do not create it.
 *
 * @since 0.1.0
 * @category resolution
 */
export const storeExists = (directory: string): Effect.Effect<boolean, never, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.exists(directory)).pipe(Effect.orElseSucceed(() => false))

/**
 * Logs off, or at debug level on stderr with `--verbose`. Applied around the whole command, so that the services it
 * builds (and the fibers they fork) inherit it.
 *
 * @since 0.1.0
 * @category logging
 */
export const withVerbosity = (verbose: boolean) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  verbose ?
    self.pipe(
      Logger.withMinimumLogLevel(LogLevel.Debug),
      Effect.provide(Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger)))
    ) :
    Logger.withMinimumLogLevel(self, LogLevel.None)
