import type {
  DropboxSignHttpClient,
  OAuthApi,
  OAuthClient,
  OAuthConfig,
  TokenError,
  TokenStore
} from "@dropbox-sign-effect/oauth"
import { TokenManager } from "@dropbox-sign-effect/oauth"
import type { FileSystem, HttpClient, Path } from "@effect/platform"
import type { Option } from "effect"
import { Effect } from "effect"

import { type CliError, fromTokenError } from "../CliError.js"
import type { ClientFlags } from "../Settings.js"
import { resolveOAuthConfig, resolveStoreDir, servicesLayer, withVerbosity } from "../Settings.js"

/**
 * What `withServices` provides.
 *
 * @internal
 */
export type Services =
  | DropboxSignHttpClient.DropboxSignHttpClient
  | TokenManager.TokenManager
  | OAuthClient.OAuthClient
  | OAuthApi.OAuthApi
  | TokenStore.TokenStore
  | OAuthConfig.OAuthConfig

/**
 * The flags every command has.
 *
 * @internal
 */
export interface CommonFlags {
  readonly storeDir: Option.Option<string>
  readonly verbose: boolean
}

/**
 * Runs a command body with the configured services, the log level of `--verbose`, and the resolved token directory.
 *
 * @internal
 */
export const withServices = <A, R>(
  flags: ClientFlags & CommonFlags,
  body: (context: { readonly directory: string; readonly config: OAuthConfig.Service }) => Effect.Effect<A, CliError, R>
): Effect.Effect<A, CliError, Exclude<R, Services> | HttpClient.HttpClient | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const config = yield* resolveOAuthConfig(flags)
    const directory = yield* resolveStoreDir(flags.storeDir)
    yield* Effect.logDebug("Configuration resolved").pipe(
      Effect.annotateLogs({ oauthUrl: config.oauthUrl, apiUrl: config.apiUrl, storeDir: directory })
    )
    return yield* body({ directory, config }).pipe(Effect.provide(servicesLayer(config, directory)))
  }).pipe(withVerbosity(flags.verbose))

/**
 * One operation of the token manager for `account`, its failure said as the CLI says it (one line, with the fix).
 *
 * @internal
 */
export const withManager = <A>(
  account: string,
  operation: (manager: TokenManager.Service) => Effect.Effect<A, TokenError.TokenError>
): Effect.Effect<A, CliError, TokenManager.TokenManager> =>
  Effect.flatMap(
    TokenManager.TokenManager,
    (manager) => Effect.mapError(operation(manager), (error) => fromTokenError(error, account))
  )
