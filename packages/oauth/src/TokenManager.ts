/**
 * Keeps every account's access token valid: one refresh however many callers ask, refreshes ahead of expiry in the
 * background, rotated refresh tokens stored before use, and a clear signal when a user must authorize again.
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import type { Duration, Effect, Queue, Redacted, Schedule, Scope, Stream } from "effect"
import { Context, Layer } from "effect"

import type * as AccountId from "./AccountId.js"
import * as internalProtocol from "./internal/refreshProtocol.js"
import * as internal from "./internal/tokenManager.js"
import * as internalSignals from "./internal/tokenSignals.js"
import type { OAuthApi } from "./OAuthApi.js"
import { type CallbackParams, layerWithApi as clientLayer, type OAuthClient } from "./OAuthClient.js"
import type { OAuthConfig } from "./OAuthConfig.js"
import type { OAuthToken } from "./OAuthToken.js"
import type { TokenError, TokenStoreError } from "./TokenError.js"
import type * as TokenEvent from "./TokenEvent.js"
import type { TokenStore } from "./TokenStore.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Refresh known accounts ahead of expiry from a scoped background fiber; default true. */
  readonly backgroundRefresh?: boolean | undefined
  /** How often the background fiber looks for accounts inside their refresh window; default 15 seconds. */
  readonly backgroundInterval?: Duration.DurationInput | undefined
  /** Accounts refreshed at once by the background fiber; default 4. */
  readonly backgroundConcurrency?: number | undefined
  /**
   * Wait after a refresh the token endpoint failed, before the next one, doubled per consecutive failure; default
   * 1 second. Store failures do not count: they pass with the store.
   */
  readonly failureBackoff?: Duration.DurationInput | undefined
  /** Longest wait between failed refreshes; default 5 minutes. */
  readonly maxFailureBackoff?: Duration.DurationInput | undefined
  /**
   * How long a token received from Dropbox Sign keeps being written while the store fails (it may be the only copy
   * of the grant); default `defaultStoreWriteRetry`.
   */
  readonly storeWriteRetry?: Schedule.Schedule<unknown> | undefined
  /**
   * After Dropbox Sign refuses a refresh token, how long the store is re-read (every 100 ms) before the account is
   * marked for re-authorization: a process that lost its refresh lock mid-refresh may still be storing the token that
   * retired the one refused. Default: 1 second for a store whose lock is shared by processes
   * (`TokenStore.Service.sharedRefreshLock`, the PostgreSQL store), 0 (mark at once) for an in-process lock.
   */
  readonly refusalConfirmation?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * A valid access token for `account` (default: `AccountId.defaultAccount`). Outside the refresh window it is the
   * stored token; inside the window and still valid, the stored token is returned at once while one refresh runs in
   * the background; once expired, callers wait for the (single, shared) refresh.
   */
  readonly accessToken: (account?: AccountId.AccountId) => Effect.Effect<Redacted.Redacted<string>, TokenError>
  /** Like `accessToken`, with the whole token (expiry included). */
  readonly token: (account?: AccountId.AccountId) => Effect.Effect<OAuthToken, TokenError>
  /**
   * Completes an authorization: checks the callback's `state` against `expectedState` (in constant time), exchanges
   * the code, and stores the token, replacing any earlier grant of the account.
   */
  readonly authorize: (
    account: AccountId.AccountId,
    callback: CallbackParams,
    expectedState: string
  ) => Effect.Effect<OAuthToken, TokenError>
  /** Refreshes now, unless another refresh of the account (here or in another process) has just stored a newer one. */
  readonly refresh: (account?: AccountId.AccountId) => Effect.Effect<OAuthToken, TokenError>
  /** Deletes the account's tokens from the store. */
  readonly forget: (account?: AccountId.AccountId) => Effect.Effect<void, TokenStoreError>
  /** Refreshes, now, every known account inside its refresh window: one pass of the background refresher. */
  readonly refreshDueAccounts: Effect.Effect<void>
  /** Token events, from the moment the stream runs; no secrets in them. */
  readonly events: Stream.Stream<TokenEvent.TokenEvent>
  /** Subscribes now, for the scope's lifetime: no event published after this returns is missed. */
  readonly subscribe: Effect.Effect<Queue.Dequeue<TokenEvent.TokenEvent>, never, Scope.Scope>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class TokenManager extends Context.Tag("@dropbox-sign-effect/oauth/TokenManager")<TokenManager, Service>() {}

/**
 * Refreshes attempted, by outcome: `refreshed`, `adopted` (another writer had already refreshed), `failed`,
 * `reauthorization_required`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const refreshesTotal = internalSignals.refreshesTotal

/**
 * Time spent refreshing, lock wait included, in milliseconds.
 *
 * @since 0.1.0
 * @category metrics
 */
export const refreshDuration = internalSignals.refreshDuration

/**
 * Spaces the writes of a token received from Dropbox Sign while the store fails: exponential from 50 ms with jitter,
 * each wait at most 2 seconds, for about 15 seconds in all — long enough to ride out a database failover or a pool
 * reconnecting, short enough that a caller waiting on the refresh gets an answer.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultStoreWriteRetry: Schedule.Schedule<unknown> = internalProtocol.defaultStoreWriteRetry

/**
 * The manager, with its background refresher running in `Scope`. Prefer `layer`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  options?: Options
) => Effect.Effect<Service, never, OAuthClient | OAuthConfig | TokenStore | Scope.Scope> = internal.make

/**
 * The manager, with its background refresher running for the layer's lifetime.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<TokenManager, never, OAuthClient | OAuthConfig | TokenStore> => Layer.scoped(TokenManager, make(options))

/**
 * The manager with its `OAuthClient` and `OAuthApi`: give it `OAuthConfig`, a `TokenStore` and an `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithClient = (
  options?: Options
): Layer.Layer<TokenManager | OAuthClient | OAuthApi, never, OAuthConfig | TokenStore | HttpClient.HttpClient> =>
  Layer.provideMerge(layer(options), clientLayer)
