/**
 * Keeps every account's access token valid: one refresh however many callers ask, refreshes ahead of expiry in the
 * background, rotated refresh tokens stored before use, and a clear signal when a user must authorize again.
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import type { Exit, Queue, Redacted, Scope } from "effect"
import {
  Cause,
  Clock,
  Context,
  DateTime,
  Deferred,
  Duration,
  Effect,
  Fiber,
  FiberSet,
  HashMap,
  identity,
  Layer,
  Metric,
  Option,
  PubSub,
  Random,
  Ref,
  Schedule,
  Stream
} from "effect"

import * as AccountId from "./AccountId.js"
import type { OAuthApi } from "./OAuthApi.js"
import { type CallbackParams, layerWithApi as clientLayer, OAuthClient } from "./OAuthClient.js"
import { OAuthConfig, type RefreshWindow } from "./OAuthConfig.js"
import type { OAuthError } from "./OAuthError.js"
import * as OAuthState from "./OAuthState.js"
import type { OAuthToken } from "./OAuthToken.js"
import {
  ReauthorizationRequiredError,
  type StaleTokenError,
  StateMismatchError,
  type TokenError,
  TokenNotFoundError,
  type TokenStoreError
} from "./TokenError.js"
import * as TokenEvent from "./TokenEvent.js"
import { type StoredToken, TokenStore } from "./TokenStore.js"

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
  /** Wait after a failed refresh before the next one, doubled per consecutive failure; default 1 second. */
  readonly failureBackoff?: Duration.DurationInput | undefined
  /** Longest wait between failed refreshes; default 5 minutes. */
  readonly maxFailureBackoff?: Duration.DurationInput | undefined
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
  /**
   * Refreshes only if the stored token is still the one at `version` (for example after a 401 with it); otherwise
   * returns the newer token.
   */
  readonly refreshIfStale: (account: AccountId.AccountId, version: number) => Effect.Effect<StoredToken, TokenError>
  /** The stored entry, its version included, refreshed first when needed like `accessToken`. */
  readonly current: (account?: AccountId.AccountId) => Effect.Effect<StoredToken, TokenError>
  /** Deletes the account's tokens from the store. */
  readonly forget: (account?: AccountId.AccountId) => Effect.Effect<void, TokenStoreError>
  /** Runs one pass of the background refresher now. */
  readonly refreshDue: Effect.Effect<void>
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
export const refreshesTotal = Metric.counter("dropbox_sign_token_refreshes_total", {
  description: "Token refreshes by outcome",
  incremental: true
})

/**
 * Time spent refreshing, lock wait included, in milliseconds.
 *
 * @since 0.1.0
 * @category metrics
 */
export const refreshDuration = Metric.timerWithBoundaries(
  "dropbox_sign_token_refresh_duration",
  [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000]
)

/**
 * How long before expiry a token enters its refresh window: `ratio` of its lifetime, at most `max`, widened by a
 * random share (`jitter`, from `Random`) so that many processes do not refresh in the same instant.
 *
 * @since 0.1.0
 * @category utils
 */
export const refreshWindowFor = (token: OAuthToken, window: RefreshWindow, random: number): Duration.Duration => {
  const base = Math.min(Duration.toMillis(token.lifetime) * window.ratio, Duration.toMillis(window.max))
  return Duration.millis(Math.round(base * (1 + window.jitter * random)))
}

/** What the manager knows of an account, cached so that the hot path reads no store. */
interface Entry {
  readonly stored: StoredToken
  readonly refreshAtMillis: number
  readonly expiresAtMillis: number
  readonly failures: number
  readonly retryAtMillis: number
  readonly lastError: Option.Option<TokenError>
}

interface RefreshRequest {
  /** The version the caller saw; a stored version beyond it means someone else already refreshed. */
  readonly knownVersion: number
  /** Refresh even if the stored token is outside its window (`refresh`, a 401). */
  readonly force: boolean
}

const toAccessToken = (stored: StoredToken) => stored.token.accessToken
const toToken = (stored: StoredToken) => stored.token

const isOutcomeUnknown = (error: OAuthError): boolean =>
  (error._tag === "TransportError" && error.outcome === "Unknown") ||
  (error._tag === "ServerError" && error.status === 500) ||
  // A 2XX the client cannot use (truncated, malformed) may still have rotated the refresh token on the server.
  (error._tag === "ResponseDecodeError" && error.status >= 200 && error.status < 300)

const isTerminal = (error: OAuthError): boolean => error._tag === "OAuthApiError" && error.isTerminal

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<Service, never, OAuthClient | OAuthConfig | TokenStore | Scope.Scope> =>
  Effect.gen(function*() {
    const client = yield* OAuthClient
    const config = yield* OAuthConfig
    const store = yield* TokenStore
    const cache = yield* Ref.make(HashMap.empty<AccountId.AccountId, Entry>())
    const inflight = yield* Ref.make(HashMap.empty<AccountId.AccountId, Deferred.Deferred<StoredToken, TokenError>>())
    const fibers = yield* FiberSet.make()
    const pubsub = yield* Effect.acquireRelease(PubSub.unbounded<TokenEvent.TokenEvent>(), PubSub.shutdown)
    const failureBackoff = Duration.decode(options.failureBackoff ?? Duration.seconds(1))
    const maxFailureBackoff = Duration.decode(options.maxFailureBackoff ?? Duration.minutes(5))

    const publish = (event: TokenEvent.TokenEvent) => PubSub.publish(pubsub, event)
    const count = (outcome: string) => Metric.increment(Metric.tagged(refreshesTotal, "outcome", outcome))

    /** Caches a stored entry with a freshly jittered refresh instant, clearing any failure state. */
    const remember = (stored: StoredToken) =>
      Effect.flatMap(Random.next, (random) => {
        const expiresAtMillis = DateTime.toEpochMillis(stored.token.expiresAt)
        const entry: Entry = {
          stored,
          expiresAtMillis,
          refreshAtMillis: expiresAtMillis -
            Duration.toMillis(refreshWindowFor(stored.token, config.refreshWindow, random)),
          failures: 0,
          retryAtMillis: 0,
          lastError: Option.none()
        }
        return Effect.as(Ref.update(cache, HashMap.set(stored.account, entry)), entry)
      })

    const rememberFailure = (account: AccountId.AccountId, error: TokenError) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Ref.modify(cache, (entries) => {
          const entry = HashMap.get(entries, account)
          if (Option.isNone(entry)) return [now, entries]
          const failures = entry.value.failures + 1
          const wait = Math.min(
            Duration.toMillis(failureBackoff) * 2 ** Math.min(failures - 1, 30),
            Duration.toMillis(maxFailureBackoff)
          )
          const updated: Entry = { ...entry.value, failures, retryAtMillis: now + wait, lastError: Option.some(error) }
          return [now + wait, HashMap.set(entries, account, updated)]
        }))

    const load = (account: AccountId.AccountId) =>
      store.get(account).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(new TokenNotFoundError({ account })),
          onSome: remember
        }))
      )

    const reauthorizationRequired = (stored: StoredToken) =>
      new ReauthorizationRequiredError({
        account: stored.account,
        reason: stored.statusReason ?? "the grant was revoked or has expired"
      })

    /** Marks the account, keeping its refresh token (nothing is ever dropped), and tells every listener once. */
    const markReauthorizationRequired = (latest: StoredToken, error: OAuthError) =>
      Effect.gen(function*() {
        const reason = `Dropbox Sign refused the refresh token (${error.message})`
        const marked = yield* store.set(latest.account, latest.token, {
          expectedVersion: latest.version,
          status: "reauthorization_required",
          statusReason: reason
        })
        yield* remember(marked)
        yield* count("reauthorization_required")
        yield* publish(TokenEvent.ReauthorizationRequired({ account: latest.account, reason }))
        yield* Effect.logWarning("Dropbox Sign account must be authorized again").pipe(
          Effect.annotateLogs({ account: latest.account, reason })
        )
        return yield* Effect.fail(reauthorizationRequired(marked))
      })

    /** Takes what another writer stored instead of refreshing again. */
    const adopt = (stored: StoredToken) =>
      Effect.gen(function*() {
        yield* remember(stored)
        if (stored.status === "reauthorization_required") return yield* Effect.fail(reauthorizationRequired(stored))
        yield* count("adopted")
        yield* publish(
          TokenEvent.Refreshed({
            account: stored.account,
            expiresAt: stored.token.expiresAt,
            version: stored.version,
            requested: false
          })
        )
        return stored
      })

    const readLatest = (account: AccountId.AccountId) =>
      Effect.flatten(
        Effect.map(
          store.get(account),
          Option.match({
            onNone: () => Effect.fail(new TokenNotFoundError({ account })),
            onSome: Effect.succeed
          })
        )
      )

    /**
     * One request to the server and the compare-and-set write of its answer, which no outside interruption can split:
     * once a rotated refresh token may exist on the server, it reaches the store. The pair runs in a fiber of its own
     * that stays interruptible, so that the request timeout can still end its wait (a timeout inside an
     * uninterruptible region waits for the request forever); the caller waits for it uninterruptibly. A daemon, because
     * an interruption of the caller would otherwise be passed on to it as to any child fiber.
     */
    const exchange = (latest: StoredToken) =>
      Effect.uninterruptible(
        Effect.flatMap(
          Effect.forkDaemon(Effect.interruptible(Effect.flatMap(
            client.refresh(latest.token.refreshToken),
            (token): Effect.Effect<StoredToken, StaleTokenError | TokenStoreError> =>
              store.set(latest.account, token, { expectedVersion: latest.version })
          ))),
          Fiber.join
        )
      )

    const recordFailure = (account: AccountId.AccountId, error: TokenError) =>
      Effect.gen(function*() {
        const retryAt = yield* rememberFailure(account, error)
        yield* count("failed")
        yield* publish(
          TokenEvent.RefreshFailed({
            account,
            error: error._tag,
            message: error.message,
            retryAt: DateTime.unsafeMake(retryAt)
          })
        )
        yield* Effect.logWarning("Dropbox Sign token refresh failed").pipe(
          Effect.annotateLogs({ account, error: error._tag, message: error.message })
        )
        return yield* Effect.fail(error)
      })

    /** Refreshes `latest` against the server, under the account's refresh lock. */
    const refreshWithServer = (latest: StoredToken): Effect.Effect<StoredToken, TokenError> => {
      const attempt = (current: StoredToken, retryUnknown: boolean): Effect.Effect<StoredToken, TokenError> =>
        exchange(current).pipe(
          Effect.catchTags({
            // Another writer won the race: its token is newer than ours by construction.
            StaleTokenError: () => Effect.flatMap(readLatest(current.account), adopt),
            OAuthApiError: (error) =>
              isTerminal(error) ? markReauthorizationRequired(current, error) : Effect.fail(error),
            TransportError: (error) =>
              retryUnknown && isOutcomeUnknown(error) ? afterUnknown(current) : Effect.fail(error),
            ServerError: (error) =>
              retryUnknown && isOutcomeUnknown(error) ? afterUnknown(current) : Effect.fail(error),
            ResponseDecodeError: (error) =>
              retryUnknown && isOutcomeUnknown(error) ? afterUnknown(current) : Effect.fail(error)
          })
        )
      // The request may have been processed: if a newer token was stored meanwhile, use it; otherwise try once more.
      const afterUnknown = (previous: StoredToken) =>
        Effect.flatMap(
          readLatest(previous.account),
          (reread) => reread.version !== previous.version ? adopt(reread) : attempt(reread, false)
        )
      return attempt(latest, true).pipe(
        Effect.tap((stored) =>
          Effect.all([
            remember(stored),
            count("refreshed"),
            publish(
              TokenEvent.Refreshed({
                account: stored.account,
                expiresAt: stored.token.expiresAt,
                version: stored.version,
                requested: true
              })
            )
          ])
        )
      )
    }

    const runRefresh = (account: AccountId.AccountId, request: RefreshRequest) =>
      store.withRefreshLock(
        account,
        Effect.gen(function*() {
          // Read again under the lock: another process may have refreshed while we waited for it.
          const latest = yield* readLatest(account)
          if (latest.status === "reauthorization_required") {
            return yield* adopt(latest)
          }
          if (latest.version !== request.knownVersion) {
            const now = yield* Clock.currentTimeMillis
            const entry = yield* remember(latest)
            if (request.force || now < entry.refreshAtMillis) {
              return yield* adopt(latest)
            }
          }
          return yield* refreshWithServer(latest)
        })
      ).pipe(
        Effect.catchIf(
          (error): error is Exclude<TokenError, ReauthorizationRequiredError | TokenNotFoundError> =>
            error._tag !== "ReauthorizationRequiredError" && error._tag !== "TokenNotFoundError",
          (error) => recordFailure(account, error)
        ),
        Metric.trackDuration(refreshDuration),
        Effect.withSpan("TokenManager.refresh", {
          attributes: { "dropbox_sign.account": account, "dropbox_sign.forced": request.force }
        })
      )

    /**
     * Single flight: the first caller starts the refresh in the manager's scope (so that no caller's interruption
     * cancels it half-way) and every concurrent caller waits for the same result.
     */
    const sharedRefresh = (
      account: AccountId.AccountId,
      request: RefreshRequest
    ): Effect.Effect<Deferred.Deferred<StoredToken, TokenError>> =>
      Effect.flatMap(Ref.get(inflight), (running) => {
        // Joining a refresh in flight allocates nothing: the common case of a storm.
        const existing = HashMap.get(running, account)
        return Option.isSome(existing) ? Effect.succeed(existing.value) : startRefresh(account, request)
      })

    const startRefresh = (
      account: AccountId.AccountId,
      request: RefreshRequest
    ): Effect.Effect<Deferred.Deferred<StoredToken, TokenError>> =>
      Effect.gen(function*() {
        const candidate = yield* Deferred.make<StoredToken, TokenError>()
        const running = yield* Ref.modify(inflight, (map) => {
          const existing = HashMap.get(map, account)
          return Option.isSome(existing) ?
            [Option.some(existing.value), map] :
            [Option.none<Deferred.Deferred<StoredToken, TokenError>>(), HashMap.set(map, account, candidate)]
        })
        if (Option.isSome(running)) return running.value
        // Removes this refresh's entry only (never a later one), so that settling twice is harmless.
        const settle = (exit: Exit.Exit<StoredToken, TokenError>) =>
          Ref.update(inflight, (map) =>
            Option.exists(HashMap.get(map, account), (entry) => entry === candidate) ?
              HashMap.remove(map, account) :
              map).pipe(Effect.zipRight(Deferred.done(candidate, exit)))
        const fiber = yield* FiberSet.run(fibers, runRefresh(account, request).pipe(Effect.onExit(settle)))
        // Once the manager's scope has closed, the set runs nothing and hands back an interrupted fiber: settle with
        // its exit, or every caller of the account would wait forever.
        const exit = yield* fiber.poll
        if (Option.isSome(exit)) yield* settle(exit.value)
        return candidate
      })

    /**
     * The hot path: a cached, active entry outside its refresh window is answered with one read of the cache and one
     * of the clock, without a generator; everything else takes `slowCurrent`.
     */
    const currentWith = <A>(
      account: AccountId.AccountId,
      f: (stored: StoredToken) => A
    ): Effect.Effect<A, TokenError> =>
      Effect.flatMap(Ref.get(cache), (entries) => {
        const cached = HashMap.get(entries, account)
        if (Option.isNone(cached) || cached.value.stored.status !== "active") return Effect.map(slowCurrent(account), f)
        const entry = cached.value
        return Effect.clockWith((clock) =>
          clock.unsafeCurrentTimeMillis() < entry.refreshAtMillis ?
            Effect.succeed(f(entry.stored)) :
            Effect.map(slowCurrent(account), f)
        )
      })

    const current = (account: AccountId.AccountId = AccountId.defaultAccount): Effect.Effect<StoredToken, TokenError> =>
      currentWith(account, identity)

    const slowCurrent = (account: AccountId.AccountId): Effect.Effect<StoredToken, TokenError> =>
      Effect.gen(function*() {
        const cached = HashMap.get(yield* Ref.get(cache), account)
        let entry = Option.isSome(cached) ? cached.value : yield* load(account)
        if (entry.stored.status === "reauthorization_required" && Option.isSome(cached)) {
          // Another process (or a restart of the authorize flow elsewhere) may have re-authorized the account.
          entry = yield* load(account)
        }
        const stored = entry.stored
        if (stored.status === "reauthorization_required") return yield* Effect.fail(reauthorizationRequired(stored))
        const now = yield* Clock.currentTimeMillis
        if (now < entry.refreshAtMillis) return stored
        const request = { knownVersion: stored.version, force: false }
        if (now < entry.expiresAtMillis) {
          // Stale while revalidate: still valid, so answer now and refresh behind the caller's back.
          if (now >= entry.retryAtMillis) yield* sharedRefresh(account, request)
          return stored
        }
        if (now < entry.retryAtMillis && Option.isSome(entry.lastError)) {
          return yield* Effect.fail(entry.lastError.value)
        }
        return yield* Deferred.await(yield* sharedRefresh(account, request))
      })

    const refreshIfStale = (account: AccountId.AccountId, version: number) =>
      Effect.flatMap(sharedRefresh(account, { knownVersion: version, force: true }), Deferred.await)

    const refresh = (account: AccountId.AccountId = AccountId.defaultAccount) =>
      Effect.gen(function*() {
        const cached = HashMap.get(yield* Ref.get(cache), account)
        const entry = Option.isSome(cached) ? cached.value : yield* load(account)
        if (entry.stored.status === "reauthorization_required") {
          return yield* Effect.fail(reauthorizationRequired(entry.stored))
        }
        const stored = yield* refreshIfStale(account, entry.stored.version)
        return stored.token
      })

    const authorize = (account: AccountId.AccountId, callback: CallbackParams, expectedState: string) =>
      Effect.gen(function*() {
        if (!OAuthState.verify(expectedState, callback.state)) return yield* Effect.fail(new StateMismatchError())
        const token = yield* client.exchangeCode(callback)
        const stored = yield* store.withRefreshLock(
          account,
          Effect.flatMap(store.get(account), (existing) =>
            store.set(account, token, {
              expectedVersion: Option.match(existing, { onNone: () => null, onSome: (entry) => entry.version })
            }))
        )
        yield* remember(stored)
        yield* publish(TokenEvent.Stored({ account, expiresAt: stored.token.expiresAt, version: stored.version }))
        return stored.token
      }).pipe(Effect.withSpan("TokenManager.authorize", { attributes: { "dropbox_sign.account": account } }))

    const forget = (account: AccountId.AccountId = AccountId.defaultAccount) =>
      Effect.zipRight(store.delete(account), Ref.update(cache, HashMap.remove(account)))

    const refreshDue = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const due = [...HashMap.values(yield* Ref.get(cache))].filter((entry) =>
        entry.stored.status === "active" && now >= entry.refreshAtMillis && now >= entry.retryAtMillis
      )
      yield* Effect.forEach(
        due,
        (entry) =>
          sharedRefresh(entry.stored.account, { knownVersion: entry.stored.version, force: false }).pipe(
            Effect.flatMap(Deferred.await),
            Effect.ignore
          ),
        { concurrency: options.backgroundConcurrency ?? 4, discard: true }
      )
    })

    if (options.backgroundRefresh ?? true) {
      // Accounts stored by earlier runs are known from the start; failures here only delay their first refresh.
      yield* store.list.pipe(
        Effect.flatMap((accounts) =>
          Effect.forEach(accounts, (account) => Effect.ignore(load(account)), { discard: true })
        ),
        Effect.catchAllCause((cause) => Effect.logWarning("Could not list stored accounts", Cause.squash(cause))),
        Effect.zipRight(
          refreshDue.pipe(
            Effect.catchAllCause((cause) => Effect.logWarning("Background token refresh pass failed", cause)),
            Effect.repeat(Schedule.spaced(options.backgroundInterval ?? Duration.seconds(15)))
          )
        ),
        Effect.interruptible,
        Effect.forkScoped
      )
    }

    return TokenManager.of({
      accessToken: (account = AccountId.defaultAccount) => currentWith(account, toAccessToken),
      token: (account = AccountId.defaultAccount) => currentWith(account, toToken),
      current,
      authorize,
      refresh,
      refreshIfStale,
      forget,
      refreshDue,
      events: Stream.fromPubSub(pubsub),
      subscribe: PubSub.subscribe(pubsub)
    })
  })

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
