import type { Redacted, Scope } from "effect"
import { Clock, Deferred, Duration, Effect, Exit } from "effect"

import * as AccountId from "../AccountId.js"
import { OAuthClient } from "../OAuthClient.js"
import { OAuthConfig } from "../OAuthConfig.js"
import * as OAuthState from "../OAuthState.js"
import type { OAuthToken } from "../OAuthToken.js"
import { StateMismatchError, type TokenError, TokenNotFoundError } from "../TokenError.js"
import type { Options, Service } from "../TokenManager.js"
import { type StoredToken, TokenStore } from "../TokenStore.js"
import * as BackgroundRefresher from "./backgroundRefresher.js"
import * as KeyedSingleFlight from "./keyedSingleFlight.js"
import * as RefreshProtocol from "./refreshProtocol.js"
import { reauthorizationRequired } from "./refreshProtocol.js"
import * as TokenCache from "./tokenCache.js"
import * as TokenSignals from "./tokenSignals.js"

/**
 * What `DropboxSignHttpClient` needs beyond the public service: the stored version behind a token, so that after a
 * 401 it refreshes only if nobody has replaced that token yet.
 *
 * @internal
 */
export interface VersionedAccess {
  readonly current: (account: AccountId.AccountId) => Effect.Effect<StoredToken, TokenError>
  readonly refreshIfStale: (account: AccountId.AccountId, version: number) => Effect.Effect<StoredToken, TokenError>
}

const handles = new WeakMap<Service, VersionedAccess>()

/**
 * The versioned access of a manager made by `make`. A manager of the application's own (a test double built with
 * `TokenManager.of`) has none: it is served through its public operations, with every 401 forcing a refresh.
 *
 * @internal
 */
export const versionedAccess = (manager: Service): VersionedAccess => {
  const known = handles.get(manager)
  if (known !== undefined) return known
  const unversioned = (account: AccountId.AccountId, token: OAuthToken): StoredToken => ({
    account,
    token,
    version: 0,
    status: "active",
    updatedAt: token.issuedAt
  })
  return {
    current: (account) => Effect.map(manager.token(account), (token) => unversioned(account, token)),
    refreshIfStale: (account) => Effect.map(manager.refresh(account), (token) => unversioned(account, token))
  }
}

/** @internal */
export const defaultRefusalConfirmation = Duration.seconds(1)

/** How often an account in backoff may look at the store for a token another process stored. */
const recheckInterval = 1000

/** @internal */
export const make = (
  options: Options = {}
): Effect.Effect<Service, never, OAuthClient | OAuthConfig | TokenStore | Scope.Scope> =>
  Effect.gen(function*() {
    const client = yield* OAuthClient
    const config = yield* OAuthConfig
    const store = yield* TokenStore
    const signals = yield* TokenSignals.make
    const cache = TokenCache.make(config.refreshWindow, {
      initial: Duration.decode(options.failureBackoff ?? Duration.seconds(1)),
      max: Duration.decode(options.maxFailureBackoff ?? Duration.minutes(5))
    })
    const refreshes = yield* KeyedSingleFlight.make<AccountId.AccountId, StoredToken, TokenError>()
    const loads = yield* KeyedSingleFlight.make<AccountId.AccountId, TokenCache.Entry, TokenError>()
    const protocol = RefreshProtocol.make({
      client,
      store,
      cache,
      signals,
      storeWriteRetry: options.storeWriteRetry ?? RefreshProtocol.defaultStoreWriteRetry,
      // Only a lock shared by processes can be lost mid-refresh; with an in-process lock a refusal is final at once.
      refusalConfirmation: Duration.decode(
        options.refusalConfirmation ?? (store.sharedRefreshLock === true ? defaultRefusalConfirmation : Duration.zero)
      )
    })

    const load = (account: AccountId.AccountId, cached: TokenCache.Entry | undefined) =>
      Effect.flatMap(store.get(account), (stored) =>
        stored._tag === "None"
          ? Effect.fail(new TokenNotFoundError({ account }))
          : cache.rememberUnlessChanged(stored.value, cached))

    /**
     * The one way to an account's entry, for every operation: the cached entry when it is active; otherwise the
     * store's, read once however many callers arrive (a cold start), and read again when the cached entry says the
     * account needs re-authorization (another process may have re-authorized it since).
     */
    const lookup = (account: AccountId.AccountId): Effect.Effect<TokenCache.Entry, TokenError> =>
      Effect.suspend(() => {
        const cached = cache.peek(account)
        return cached !== undefined && cached.stored.status === "active"
          ? Effect.succeed(cached)
          : Effect.flatMap(loads.run(account, () => load(account, cached)), Deferred.await)
      })

    /** The refresh of `account` in flight, or a new one; its request is made only if it starts. */
    const startRefresh = (account: AccountId.AccountId, knownVersion: number, force: boolean) =>
      refreshes.run(account, () => protocol.refresh(account, { knownVersion, force }))

    const refreshIfStale = (account: AccountId.AccountId, version: number) =>
      Effect.flatMap(startRefresh(account, version, true), Deferred.await)

    /**
     * What an active entry calls for at `now`, past the hot path's check: inside the refresh window and still valid,
     * the stored token at once while one refresh runs behind the caller (stale while revalidate); expired, the shared
     * refresh, unless the last one failed and its backoff has not passed.
     */
    const due = (entry: TokenCache.Entry, now: number): Effect.Effect<StoredToken, TokenError> => {
      const stored = entry.stored
      if (now < entry.refreshAtMillis) return Effect.succeed(stored)
      if (now < entry.expiresAtMillis) {
        return now >= entry.retryAtMillis
          ? Effect.as(startRefresh(stored.account, stored.version, false), stored)
          : Effect.succeed(stored)
      }
      if (now < entry.retryAtMillis && entry.lastError !== undefined) return duringBackoff(entry, entry.lastError, now)
      const inFlight = refreshes.inFlight(stored.account)
      return inFlight === undefined
        ? Effect.flatMap(startRefresh(stored.account, stored.version, false), Deferred.await)
        : inFlight
    }

    /**
     * An expired token whose last refresh failed, before its backoff has passed: the caller gets that failure, unless
     * the store holds a newer token (another process refreshed meanwhile). The store is read at most once a second
     * per account for it, however many callers arrive.
     */
    const duringBackoff = (
      entry: TokenCache.Entry,
      error: TokenError,
      now: number
    ): Effect.Effect<StoredToken, TokenError> => {
      if (now < entry.recheckAtMillis) return Effect.fail(error)
      const account = entry.stored.account
      const recheck = Effect.zipRight(
        cache.deferRecheck(account, now + recheckInterval),
        Effect.flatMap(store.get(account), (stored) =>
          stored._tag === "Some" && stored.value.version !== entry.stored.version
            ? cache.rememberUnlessChanged(stored.value, cache.peek(account))
            : Effect.succeed(entry))
      )
      return Effect.flatMap(
        loads.run(account, () =>
          recheck),
        Deferred.await
      ).pipe(
        Effect.flatMap((latest) =>
          latest.stored.version === entry.stored.version
            ? Effect.fail(error)
            : latest.stored.status === "reauthorization_required"
            ? Effect.fail(reauthorizationRequired(latest.stored))
            : due(latest, now)
        )
      )
    }

    /** A cold or marked account: through the one lookup path, then like every active entry. */
    const slowCurrent = (account: AccountId.AccountId): Effect.Effect<StoredToken, TokenError> =>
      Effect.flatMap(lookup(account), (entry) =>
        entry.stored.status === "reauthorization_required"
          ? Effect.fail(reauthorizationRequired(entry.stored))
          : Effect.flatMap(Clock.currentTimeMillis, (now) =>
            due(entry, now)))

    /**
     * The hot path: a cached, active entry outside its refresh window is answered with one read of the clock and one
     * of the cache, returning an answer made when the entry was cached. A cached entry past it goes straight to `due`
     * with the instant already read (a storm of callers at expiry takes this way).
     */
    const currentWith = <A>(
      account: AccountId.AccountId,
      fast: (entry: TokenCache.Entry) => Exit.Exit<A>,
      slow: (stored: StoredToken) => A
    ): Effect.Effect<A, TokenError> =>
      Effect.clockWith((clock) => {
        const entry = cache.peek(account)
        if (entry === undefined || entry.stored.status !== "active") return Effect.map(slowCurrent(account), slow)
        const now = clock.unsafeCurrentTimeMillis()
        return now < entry.refreshAtMillis ? fast(entry) : Effect.map(due(entry, now), slow)
      })

    const pickAccessToken = (entry: TokenCache.Entry) => entry.accessToken
    const slowAccessToken = (stored: StoredToken) => stored.token.accessToken
    const pickToken = (entry: TokenCache.Entry) => entry.token
    const slowToken = (stored: StoredToken) => stored.token

    /**
     * The readers of an account, made once: an effect is a description that can run any number of times, so the hot
     * path allocates nothing per call. Made only for accounts the cache knows (an unknown account gets fresh ones),
     * and dropped with the account by `forget`.
     */
    const readers = new Map<AccountId.AccountId, {
      readonly accessToken: Effect.Effect<Redacted.Redacted<string>, TokenError>
      readonly token: Effect.Effect<OAuthToken, TokenError>
    }>()
    const readersOf = (account: AccountId.AccountId) => {
      const known = readers.get(account)
      if (known !== undefined) return known
      const made = {
        accessToken: currentWith(account, pickAccessToken, slowAccessToken),
        token: currentWith(account, pickToken, slowToken)
      }
      if (cache.peek(account) !== undefined) readers.set(account, made)
      return made
    }

    const accessToken = (account: AccountId.AccountId = AccountId.defaultAccount) => readersOf(account).accessToken

    const token = (account: AccountId.AccountId = AccountId.defaultAccount) => readersOf(account).token

    const current = (account: AccountId.AccountId) =>
      currentWith<StoredToken>(account, (entry) => Exit.succeed(entry.stored), (stored) => stored)

    const refresh = (account: AccountId.AccountId = AccountId.defaultAccount) =>
      Effect.flatMap(lookup(account), (entry) =>
        entry.stored.status === "reauthorization_required"
          ? Effect.fail(reauthorizationRequired(entry.stored))
          : Effect.map(refreshIfStale(account, entry.stored.version), (stored) => stored.token))

    const authorize: Service["authorize"] = (account, callback, expectedState) =>
      (OAuthState.verify(expectedState, callback.state)
        ? Effect.map(protocol.authorize(account, callback), (stored) => stored.token)
        : Effect.fail(new StateMismatchError())).pipe(
          Effect.withSpan("TokenManager.authorize", { attributes: { "dropbox_sign.account": account } })
        )

    const forget = (account: AccountId.AccountId = AccountId.defaultAccount) =>
      Effect.zipRight(
        store.delete(account),
        Effect.zipRight(cache.forget(account), Effect.sync(() => readers.delete(account)))
      )

    const refreshDueAccounts = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.forEach(
        cache.due(now),
        (entry) =>
          startRefresh(entry.stored.account, entry.stored.version, false).pipe(
            Effect.flatMap(Deferred.await),
            Effect.ignore
          ),
        { concurrency: options.backgroundConcurrency ?? 4, discard: true }
      ))

    if (options.backgroundRefresh ?? true) {
      yield* BackgroundRefresher.start({
        store,
        preload: (account) => lookup(account),
        refreshDue: refreshDueAccounts,
        interval: options.backgroundInterval ?? Duration.seconds(15)
      })
    }

    const service: Service = {
      accessToken,
      token,
      authorize,
      refresh,
      forget,
      refreshDueAccounts,
      events: signals.events,
      subscribe: signals.subscribe
    }
    handles.set(service, { current, refreshIfStale })
    return service
  })
