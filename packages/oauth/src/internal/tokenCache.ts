import type { Redacted } from "effect"
import { Clock, DateTime, Duration, Effect, Exit, Random } from "effect"

import type { AccountId } from "../AccountId.js"
import type { RefreshWindow } from "../OAuthConfig.js"
import type { OAuthToken } from "../OAuthToken.js"
import type { TokenError } from "../TokenError.js"
import type { StoredToken } from "../TokenStore.js"

/**
 * What the manager knows of an account, so that the hot path reads no store.
 *
 * @internal
 */
export interface Entry {
  readonly stored: StoredToken
  /** When the refresh window opens (jittered once per entry). */
  readonly refreshAtMillis: number
  readonly expiresAtMillis: number
  /** Consecutive failed refreshes against the token endpoint. */
  readonly failures: number
  /** No new refresh before this instant, after a failure. */
  readonly retryAtMillis: number
  /** While in backoff, no store re-read before this instant. */
  readonly recheckAtMillis: number
  readonly lastError: TokenError | undefined
  /** The hot path's answers, made once per entry rather than once per call. */
  readonly accessToken: Exit.Exit<Redacted.Redacted<string>>
  readonly token: Exit.Exit<OAuthToken>
}

/**
 * @internal
 */
export interface Backoff {
  readonly initial: Duration.Duration
  readonly max: Duration.Duration
}

/**
 * The entries of one manager, and the only code that writes them.
 *
 * @internal
 */
export interface TokenCache {
  /** Synchronous, for the hot path. */
  readonly peek: (account: AccountId) => Entry | undefined
  /** Caches a stored entry with a freshly jittered refresh instant, clearing any failure state. */
  readonly remember: (stored: StoredToken) => Effect.Effect<Entry>
  /**
   * Like `remember`, unless the account's entry changed since `expected` was read (a cold read must not replace what
   * a refresh or an authorization cached meanwhile). Returns what is cached afterwards.
   */
  readonly rememberUnlessChanged: (stored: StoredToken, expected: Entry | undefined) => Effect.Effect<Entry>
  /** Records a refresh the token endpoint failed and returns when the next may start (a doubling backoff). */
  readonly rememberFailure: (account: AccountId, error: TokenError) => Effect.Effect<DateTime.Utc>
  /**
   * Records a refresh the store failed: the next background refresh waits the initial backoff, callers are not
   * failed for it. Returns when the next may start.
   */
  readonly rememberStoreFault: (account: AccountId) => Effect.Effect<DateTime.Utc>
  /** Defers the next store re-read of an account in backoff until `untilMillis`. */
  readonly deferRecheck: (account: AccountId, untilMillis: number) => Effect.Effect<void>
  readonly forget: (account: AccountId) => Effect.Effect<void>
  /** Active entries inside their refresh window and past any backoff, at `nowMillis`. */
  readonly due: (nowMillis: number) => ReadonlyArray<Entry>
}

/**
 * How long before expiry a token enters its refresh window: `ratio` of its lifetime, at most `max`, widened by a
 * random share (`jitter`, from `Random`) so that many processes do not refresh in the same instant.
 *
 * @internal
 */
export const refreshWindowFor = (token: OAuthToken, window: RefreshWindow, random: number): Duration.Duration => {
  const base = Math.min(Duration.toMillis(token.lifetime) * window.ratio, Duration.toMillis(window.max))
  return Duration.millis(Math.round(base * (1 + window.jitter * random)))
}

/**
 * A plain `Map` written only by this module: the hot path (`TokenManager.accessToken`) reads it synchronously, and a
 * `Ref` read there measured at about half the speed.
 *
 * @internal
 */
export const make = (window: RefreshWindow, backoff: Backoff): TokenCache => {
  const entries = new Map<AccountId, Entry>()

  const toEntry = (stored: StoredToken, random: number): Entry => {
    const expiresAtMillis = DateTime.toEpochMillis(stored.token.expiresAt)
    return {
      stored,
      expiresAtMillis,
      refreshAtMillis: expiresAtMillis - Duration.toMillis(refreshWindowFor(stored.token, window, random)),
      failures: 0,
      retryAtMillis: 0,
      recheckAtMillis: 0,
      lastError: undefined,
      accessToken: Exit.succeed(stored.token.accessToken),
      token: Exit.succeed(stored.token)
    }
  }

  const rememberUnlessChanged = (stored: StoredToken, expected: Entry | undefined) =>
    Effect.map(Random.next, (random) => {
      const current = entries.get(stored.account)
      if (current !== expected && current !== undefined) return current
      const entry = toEntry(stored, random)
      entries.set(stored.account, entry)
      return entry
    })

  return {
    peek: (account) => entries.get(account),
    remember: (stored) =>
      Effect.map(Random.next, (random) => {
        const entry = toEntry(stored, random)
        entries.set(stored.account, entry)
        return entry
      }),
    rememberUnlessChanged,
    rememberFailure: (account, error) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const entry = entries.get(account)
        if (entry === undefined) return DateTime.unsafeMake(now)
        const failures = entry.failures + 1
        const wait = Math.min(
          Duration.toMillis(backoff.initial) * 2 ** Math.min(failures - 1, 30),
          Duration.toMillis(backoff.max)
        )
        entries.set(account, { ...entry, failures, retryAtMillis: now + wait, lastError: error })
        return DateTime.unsafeMake(now + wait)
      }),
    rememberStoreFault: (account) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const entry = entries.get(account)
        const retryAtMillis = now + Duration.toMillis(backoff.initial)
        if (entry !== undefined && entry.retryAtMillis < retryAtMillis) {
          entries.set(account, { ...entry, retryAtMillis })
        }
        return DateTime.unsafeMake(retryAtMillis)
      }),
    deferRecheck: (account, untilMillis) =>
      Effect.sync(() => {
        const entry = entries.get(account)
        if (entry !== undefined) entries.set(account, { ...entry, recheckAtMillis: untilMillis })
      }),
    forget: (account) => Effect.sync(() => entries.delete(account)),
    due: (nowMillis) =>
      Array.from(entries.values()).filter((entry) =>
        entry.stored.status === "active" && nowMillis >= entry.refreshAtMillis && nowMillis >= entry.retryAtMillis
      )
  }
}
