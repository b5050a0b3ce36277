import type { DateTime, Queue, Scope } from "effect"
import { Effect, Metric, PubSub, Stream } from "effect"

import type { AccountId } from "../AccountId.js"
import type { TokenError } from "../TokenError.js"
import * as TokenEvent from "../TokenEvent.js"
import type { StoredToken } from "../TokenStore.js"

/** @internal */
export const refreshesTotal = Metric.counter("dropbox_sign_token_refreshes_total", {
  description: "Token refreshes by outcome",
  incremental: true
})

/** @internal */
export const refreshDuration = Metric.timerWithBoundaries(
  "dropbox_sign_token_refresh_duration",
  [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000]
)

// Tagged once: tagging allocates and hashes a new key on every increment.
const outcomes = {
  refreshed: Metric.tagged(refreshesTotal, "outcome", "refreshed"),
  adopted: Metric.tagged(refreshesTotal, "outcome", "adopted"),
  failed: Metric.tagged(refreshesTotal, "outcome", "failed"),
  reauthorizationRequired: Metric.tagged(refreshesTotal, "outcome", "reauthorization_required")
}

/**
 * Everything the manager tells the outside world about an account (events, metrics, logs), in one place, so that
 * each outcome is reported the same way wherever it is reached. Nothing here carries a secret.
 *
 * @internal
 */
export interface TokenSignals {
  readonly stored: (stored: StoredToken) => Effect.Effect<void>
  /** `source`: this manager exchanged the refresh token, or adopted what another writer stored. */
  readonly refreshed: (stored: StoredToken, source: TokenEvent.RefreshSource) => Effect.Effect<void>
  readonly refreshFailed: (account: AccountId, error: TokenError, retryAt: DateTime.Utc) => Effect.Effect<void>
  readonly reauthorizationRequired: (account: AccountId, reason: string) => Effect.Effect<void>
  readonly events: Stream.Stream<TokenEvent.TokenEvent>
  readonly subscribe: Effect.Effect<Queue.Dequeue<TokenEvent.TokenEvent>, never, Scope.Scope>
}

/** @internal */
export const make: Effect.Effect<TokenSignals, never, Scope.Scope> = Effect.map(
  Effect.acquireRelease(PubSub.unbounded<TokenEvent.TokenEvent>(), PubSub.shutdown),
  (pubsub) => ({
    stored: (stored) =>
      PubSub.publish(
        pubsub,
        TokenEvent.Stored({ account: stored.account, expiresAt: stored.token.expiresAt, version: stored.version })
      ),
    refreshed: (stored, source) =>
      Effect.zipRight(
        Metric.increment(source === "exchange" ? outcomes.refreshed : outcomes.adopted),
        PubSub.publish(
          pubsub,
          TokenEvent.Refreshed({
            account: stored.account,
            expiresAt: stored.token.expiresAt,
            version: stored.version,
            source
          })
        )
      ),
    refreshFailed: (account, error, retryAt) =>
      Effect.all([
        Metric.increment(outcomes.failed),
        PubSub.publish(
          pubsub,
          TokenEvent.RefreshFailed({ account, error: error._tag, message: error.message, retryAt })
        ),
        Effect.logWarning("Dropbox Sign token refresh failed").pipe(
          Effect.annotateLogs({ account, error: error._tag, message: error.message })
        )
      ], { discard: true }),
    reauthorizationRequired: (account, reason) =>
      Effect.all([
        Metric.increment(outcomes.reauthorizationRequired),
        PubSub.publish(pubsub, TokenEvent.ReauthorizationRequired({ account, reason })),
        Effect.logWarning("Dropbox Sign account must be authorized again").pipe(
          Effect.annotateLogs({ account, reason })
        )
      ], { discard: true }),
    events: Stream.fromPubSub(pubsub),
    subscribe: PubSub.subscribe(pubsub)
  })
)
