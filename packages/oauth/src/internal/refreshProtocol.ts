import { Clock, Duration, Effect, Fiber, Metric, Option, Predicate, Schedule } from "effect"

import type { AccountId } from "../AccountId.js"
import type { CallbackParams, Service as OAuthClient } from "../OAuthClient.js"
import { isOAuthError, type OAuthApiError, type OAuthError } from "../OAuthError.js"
import { type OAuthToken, sameSecrets } from "../OAuthToken.js"
import {
  ReauthorizationRequiredError,
  type TokenError,
  TokenNotFoundError,
  type TokenStoreError
} from "../TokenError.js"
import type { Service as TokenStore, StoredToken } from "../TokenStore.js"
import type { TokenCache } from "./tokenCache.js"
import { refreshDuration, type TokenSignals } from "./tokenSignals.js"

/**
 * @internal
 */
export interface RefreshRequest {
  /** The version the caller saw; a stored version beyond it means someone else already refreshed. */
  readonly knownVersion: number
  /** Refresh even if the stored token is outside its window (`refresh`, a 401). */
  readonly force: boolean
}

/**
 * @internal
 */
export interface Dependencies {
  readonly client: OAuthClient
  readonly store: TokenStore
  readonly cache: TokenCache
  readonly signals: TokenSignals
  /** Spaces the attempts at storing a token received from Dropbox Sign while the store fails. */
  readonly storeWriteRetry: Schedule.Schedule<unknown>
  /** How long a refusal is confirmed by re-reading the store before the account is marked. */
  readonly refusalConfirmation: Duration.Duration
}

/**
 * The refresh protocol and the writes of new grants: the only code that talks to Dropbox Sign on behalf of the
 * manager and writes what it answered.
 *
 * @internal
 */
export interface RefreshProtocol {
  /**
   * One refresh of `account`, under its refresh lock: re-read the store → exchange the refresh token → store the
   * answer with compare-and-set → adopt what another writer stored, or mark the account for re-authorization.
   */
  readonly refresh: (account: AccountId, request: RefreshRequest) => Effect.Effect<StoredToken, TokenError>
  /** Exchanges an authorization code and stores the new grant over whatever the account had. */
  readonly authorize: (account: AccountId, callback: CallbackParams) => Effect.Effect<StoredToken, TokenError>
}

/**
 * Exponential from 50 ms, each wait at most 2 seconds, for about 15 seconds in all: long enough to ride out a
 * database failover or a pool reconnecting, short enough that a caller waiting on the refresh gets an answer.
 *
 * @internal
 */
export const defaultStoreWriteRetry: Schedule.Schedule<unknown> = Schedule.exponential("50 millis")
  .pipe(
    Schedule.jittered,
    Schedule.modifyDelay((_, delay) => Duration.min(delay, Duration.seconds(2))),
    Schedule.upTo("15 seconds")
  )

const isOutcomeUnknown = (error: OAuthError): boolean =>
  (error._tag === "TransportError" && error.outcome === "Unknown") ||
  (error._tag === "ServerError" && error.status === 500) ||
  // A 2XX the client cannot use (truncated, malformed) may still have rotated the refresh token on the server.
  (error._tag === "ResponseDecodeError" && error.status >= 200 && error.status < 300)

/** How a write of an exchanged token ended: stored as this manager's own, or superseded by a newer entry. */
type Outcome = readonly [StoredToken, "exchange" | "store"]

/**
 * The error of an account marked for re-authorization, with the reason stored beside the mark.
 *
 * @internal
 */
export const reauthorizationRequired = (stored: StoredToken): ReauthorizationRequiredError =>
  new ReauthorizationRequiredError({
    account: stored.account,
    reason: stored.statusReason ?? "the grant was revoked or has expired"
  })

/** How often the store is read again while a refusal is being confirmed. */
const refusalPolling = Duration.millis(100)

/** A compare-and-set write over a status mark can lose to another mark; past this many rounds, adopt the store. */
const maxFenceRounds = 5

/**
 * Runs `exchange` in a fiber that no outside interruption can split from its write: once a rotated refresh token may
 * exist on the server, it reaches the store. The fiber stays interruptible so that the request timeout can still end
 * its wait (a timeout inside an uninterruptible region waits for the request forever); the caller waits for it
 * uninterruptibly. A daemon, because an interruption of the caller would otherwise be passed on to it as to any child.
 */
const unsplittable = <A, E>(exchange: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  Effect.uninterruptible(Effect.flatMap(Effect.forkDaemon(Effect.interruptible(exchange)), Fiber.join))

/** @internal */
export const make = (deps: Dependencies): RefreshProtocol => {
  const { cache, client, signals, store } = deps

  /** For the store operations that stand between a token received from Dropbox Sign and its safe keeping. */
  const persistently = <A, E>(operation: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.retry(operation, {
      schedule: deps.storeWriteRetry,
      while: (error) => Predicate.isTagged(error, "TokenStoreError")
    })

  const found = (account: AccountId) =>
    Option.match({
      onNone: () => Effect.fail(new TokenNotFoundError({ account })),
      onSome: (stored: StoredToken) => Effect.succeed(stored)
    })

  const readLatest = (account: AccountId): Effect.Effect<StoredToken, TokenStoreError | TokenNotFoundError> =>
    Effect.flatMap(store.get(account), found(account))

  const readLatestPersistently = (account: AccountId) =>
    Effect.flatMap(persistently(store.get(account)), found(account))

  /** Takes what another writer stored instead of refreshing again. */
  const adopt = (stored: StoredToken): Effect.Effect<StoredToken, ReauthorizationRequiredError> =>
    Effect.flatMap(cache.remember(stored), () =>
      stored.status === "reauthorization_required"
        ? Effect.fail(reauthorizationRequired(stored))
        : Effect.as(signals.refreshed(stored, "store"), stored))

  const finish = ([stored, source]: Outcome) =>
    source === "store"
      ? adopt(stored)
      : Effect.as(Effect.zipRight(cache.remember(stored), signals.refreshed(stored, "exchange")), stored)

  /**
   * Stores what an exchange of `base`'s refresh token returned: the fence. Once the server may have rotated the refresh
   * token, `token` is the only copy of the grant, so a failing store is retried (the SQL store moves to a new
   * connection), and a lost compare-and-set is settled by reading what won:
   * - the entry still carries `base`'s very token (both secrets): only a status mark was written over it (by a process
   *   that presented the retired refresh token while this write was in flight, say), nothing newer exists, and this
   *   token replaces it;
   * - the entry carries this very token: an earlier attempt of this write landed and only its acknowledgement was lost;
   * - anything else is newer (another process refreshed, or the account was authorized again): it is adopted.
   */
  const storeExchanged = (base: StoredToken, token: OAuthToken, round = 1): Effect.Effect<Outcome, TokenError> =>
    persistently(store.set(base.account, token, { expectedVersion: base.version })).pipe(
      Effect.map((stored): Outcome => [stored, "exchange"]),
      Effect.catchTag(
        "StaleTokenError",
        () =>
          Effect.flatMap(readLatestPersistently(base.account), (latest): Effect.Effect<Outcome, TokenError> => {
            if (sameSecrets(latest.token, token)) {
              return Effect.succeed([latest, "exchange"])
            }
            if (sameSecrets(latest.token, base.token) && round < maxFenceRounds) {
              return Effect.zipRight(
                Effect.logInfo("A token received from Dropbox Sign replaces a status written over its predecessor")
                  .pipe(Effect.annotateLogs({ account: base.account, version: latest.version })),
                storeExchanged(latest, token, round + 1)
              )
            }
            return Effect.succeed([latest, "store"])
          })
      )
    )

  /**
   * Reads the store again until it shows a version other than `base`'s, for at most `refusalConfirmation` (once, when
   * that is zero): what a refusal is checked against before it is recorded.
   */
  const confirmRefusal = (base: StoredToken) =>
    Effect.repeat(
      readLatestPersistently(base.account),
      Schedule.spaced(refusalPolling).pipe(
        Schedule.upTo(deps.refusalConfirmation),
        Schedule.whileInput((latest: StoredToken) => latest.version === base.version),
        Schedule.passthrough
      )
    )

  /**
   * Dropbox Sign refused the refresh token. Recorded only after re-reading the store: a newer token stored meanwhile
   * (by a process whose write was still in flight when this one read) is adopted instead of marking a valid grant dead.
   */
  const refused = (base: StoredToken, error: OAuthApiError): Effect.Effect<StoredToken, TokenError> =>
    Effect.flatMap(confirmRefusal(base), (latest) => {
      if (latest.version !== base.version) return adopt(latest)
      const reason = `Dropbox Sign refused the refresh token (${error.message})`
      return persistently(store.set(base.account, base.token, {
        expectedVersion: base.version,
        status: "reauthorization_required",
        statusReason: reason
      })).pipe(
        Effect.tap((marked) =>
          Effect.zipRight(cache.remember(marked), signals.reauthorizationRequired(base.account, reason))
        ),
        Effect.flatMap((marked) => Effect.fail(reauthorizationRequired(marked))),
        Effect.catchTag("StaleTokenError", () => Effect.flatMap(readLatestPersistently(base.account), adopt))
      )
    })

  /**
   * Tokens received from Dropbox Sign that the store refused for longer than the write retries (a database failover
   * that outlasts them): the only copy of the grant, kept to be written before the account's next exchange.
   */
  const unwritten = new Map<AccountId, { readonly base: StoredToken; readonly token: OAuthToken }>()

  const keepUnwritten = (base: StoredToken, token: OAuthToken) =>
    Effect.zipRight(
      Effect.sync(() => unwritten.set(base.account, { base, token })),
      Effect.logWarning("A token received from Dropbox Sign could not be stored yet; it is kept until it can be")
        .pipe(Effect.annotateLogs({ account: base.account }))
    )

  /** Writes a kept token first, if there is one: before this process presents its (maybe retired) predecessor. */
  const writeUnwritten = (account: AccountId): Effect.Effect<Option.Option<StoredToken>, TokenError> => {
    const kept = unwritten.get(account)
    return kept === undefined
      ? Effect.succeedNone
      : storeExchanged(kept.base, kept.token).pipe(
        Effect.tap(() => Effect.sync(() => unwritten.delete(account))),
        Effect.flatMap(finish),
        Effect.asSome
      )
  }

  const attempt = (base: StoredToken, retryUnknown: boolean): Effect.Effect<StoredToken, TokenError> =>
    unsplittable(Effect.flatMap(client.refresh(base.token.refreshToken), (token) =>
      storeExchanged(base, token).pipe(
        Effect.tapErrorTag("TokenStoreError", () => keepUnwritten(base, token))
      ))).pipe(
        Effect.flatMap(finish),
        Effect.catchIf(isOAuthError, (error) => {
          if (error._tag === "OAuthApiError" && error.isTerminal) return refused(base, error)
          return retryUnknown && isOutcomeUnknown(error) ? afterUnknown(base) : Effect.fail(error)
        })
      )

  // The request may have been processed: if a newer token was stored meanwhile, use it; otherwise try once more.
  const afterUnknown = (base: StoredToken) =>
    Effect.flatMap(
      readLatestPersistently(base.account),
      (reread) => reread.version !== base.version ? adopt(reread) : attempt(reread, false)
    )

  const underLock = (account: AccountId, request: RefreshRequest) =>
    Effect.gen(function*() {
      const written = yield* writeUnwritten(account)
      if (Option.isSome(written)) return written.value
      // Read again under the lock: another process may have refreshed while this one waited for it.
      const latest = yield* readLatest(account)
      if (latest.status === "reauthorization_required") return yield* adopt(latest)
      if (latest.version !== request.knownVersion) {
        const entry = yield* cache.remember(latest)
        if (request.force || (yield* Clock.currentTimeMillis) < entry.refreshAtMillis) {
          return yield* Effect.as(signals.refreshed(latest, "store"), latest)
        }
      }
      return yield* attempt(latest, true)
    })

  /**
   * Only the token endpoint's failures start the backoff that fails callers: a store fault passes with the store, and
   * only spaces the refreshes started behind the callers' backs.
   */
  const recordFailure = (account: AccountId, error: TokenError) =>
    Effect.flatMap(
      isOAuthError(error) ? cache.rememberFailure(account, error) : cache.rememberStoreFault(account),
      (retryAt) => signals.refreshFailed(account, error, retryAt)
    )

  const refresh = (account: AccountId, request: RefreshRequest) =>
    store.withRefreshLock(account, underLock(account, request)).pipe(
      Effect.tapError((error) =>
        error._tag === "ReauthorizationRequiredError" || error._tag === "TokenNotFoundError"
          ? Effect.void
          : recordFailure(account, error)
      ),
      Metric.trackDuration(refreshDuration),
      Effect.withSpan("TokenManager.refresh", {
        attributes: { "dropbox_sign.account": account, "dropbox_sign.forced": request.force }
      })
    )

  /** A new authorization replaces whatever the account had, whoever wrote it last. */
  const storeGrant = (account: AccountId, token: OAuthToken, round = 1): Effect.Effect<StoredToken, TokenError> =>
    Effect.flatMap(persistently(store.get(account)), (existing) =>
      persistently(store.set(account, token, {
        expectedVersion: Option.match(existing, { onNone: () => null, onSome: (entry) => entry.version })
      })).pipe(
        Effect.catchTag("StaleTokenError", (error) =>
          round < maxFenceRounds ? storeGrant(account, token, round + 1) : Effect.fail(error))
      ))

  /**
   * No refresh lock: the code is spent once exchanged, so nothing may stand between the answer and its write (a lock
   * that times out would throw the grant away). Compare-and-set is enough: a refresh of the old grant in flight loses
   * its write to this one and adopts it.
   */
  const authorize = (account: AccountId, callback: CallbackParams) =>
    unsplittable(Effect.flatMap(client.exchangeCode(callback), (token) => storeGrant(account, token))).pipe(
      Effect.tap((stored) => Effect.zipRight(cache.remember(stored), signals.stored(stored)))
    )

  return { refresh, authorize }
}
