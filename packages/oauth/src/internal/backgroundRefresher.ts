import type { Duration, Scope } from "effect"
import { Cause, Effect, Schedule } from "effect"

import type { AccountId } from "../AccountId.js"
import type { Service as TokenStore } from "../TokenStore.js"

/**
 * @internal
 */
export interface Options {
  readonly store: TokenStore
  /** Reads one stored account into the manager's cache. */
  readonly preload: (account: AccountId) => Effect.Effect<unknown, unknown>
  /** One pass: refreshes the known accounts inside their refresh window. */
  readonly refreshDue: Effect.Effect<void>
  readonly interval: Duration.DurationInput
}

/**
 * Learns the accounts stored by earlier runs, then refreshes due accounts every `interval`, for the scope's lifetime.
 * Nothing here fails the manager: an account that cannot be read is logged on its own and only delays its first
 * refresh, and a failed pass is logged and followed by the next.
 *
 * @internal
 */
export const start = (options: Options): Effect.Effect<void, never, Scope.Scope> =>
  options.store.list.pipe(
    Effect.tap((listing) =>
      Effect.forEach(
        listing.unreadable,
        (entry) =>
          Effect.logWarning("A stored Dropbox Sign token cannot be read; its account is skipped").pipe(
            Effect.annotateLogs({ location: entry.location, reason: entry.reason })
          ),
        { discard: true }
      )
    ),
    Effect.flatMap((listing) =>
      Effect.forEach(listing.accounts, (account) => Effect.ignore(options.preload(account)), { discard: true })
    ),
    Effect.catchAllCause((cause) => Effect.logWarning("Could not list stored accounts", Cause.squash(cause))),
    Effect.zipRight(
      options.refreshDue.pipe(
        Effect.catchAllCause((cause) => Effect.logWarning("Background token refresh pass failed", cause)),
        Effect.repeat(Schedule.spaced(options.interval))
      )
    ),
    Effect.interruptible,
    Effect.forkScoped,
    Effect.asVoid
  )
