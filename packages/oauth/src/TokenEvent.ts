/**
 * What happens to an account's tokens, as events for dashboards and alerts. Events carry no secret: only accounts,
 * instants, versions and error descriptions.
 *
 * @since 0.1.0
 */
import type { DateTime } from "effect"
import { Data } from "effect"

import type { AccountId } from "./AccountId.js"

/**
 * Where a refreshed token came from: `"exchange"`, this manager traded the refresh token with Dropbox Sign;
 * `"store"`, another writer (usually another process) had already stored a newer token, which this manager adopted
 * instead of refreshing again.
 *
 * @since 0.1.0
 * @category models
 */
export type RefreshSource = "exchange" | "store"

/**
 * @since 0.1.0
 * @category models
 */
export type TokenEvent = Data.TaggedEnum<{
  /** A token was stored after an authorization. */
  Stored: { readonly account: AccountId; readonly expiresAt: DateTime.Utc; readonly version: number }
  /** A refresh succeeded (or another writer's refresh was adopted) and the new token is stored. */
  Refreshed: {
    readonly account: AccountId
    readonly expiresAt: DateTime.Utc
    readonly version: number
    /** Where the new token came from (see `RefreshSource`). */
    readonly source: RefreshSource
  }
  /** A refresh failed for a reason that may pass; it will be retried. */
  RefreshFailed: {
    readonly account: AccountId
    readonly error: string
    readonly message: string
    readonly retryAt: DateTime.Utc
  }
  /** The grant is gone: the account must be authorized again. */
  ReauthorizationRequired: { readonly account: AccountId; readonly reason: string }
}>

/**
 * Constructors and matchers: `TokenEvent.Refreshed({...})`, `TokenEvent.$is("Refreshed")`, `TokenEvent.$match`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const TokenEvent = Data.taggedEnum<TokenEvent>()

/**
 * @since 0.1.0
 * @category constructors
 */
export const { $is, $match, ReauthorizationRequired, Refreshed, RefreshFailed, Stored } = TokenEvent
