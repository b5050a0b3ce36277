/**
 * Test doubles for the token lifecycle's unit tests: a scripted `OAuthClient` (no HTTP at all) and a memory store
 * whose operations can be counted, failed or held. Time is the `TestClock`'s.
 */
import {
  AccountId,
  OAuthClient,
  OAuthConfig,
  OAuthError,
  OAuthToken,
  TokenError,
  TokenManager,
  TokenStore
} from "@dropbox-sign-effect/oauth"
import { DateTime, Duration, Effect, Layer, Queue, Redacted, Ref, Schedule } from "effect"

export const alice = AccountId.make("alice")

/** A token issued at `Clock` time with the given secrets and lifetime. */
export const issue = (label: string, lifetime: Duration.DurationInput = "1 hour") =>
  Effect.map(DateTime.now, (issuedAt) =>
    new OAuthToken.OAuthToken({
      accessToken: Redacted.make(`access-${label}`),
      refreshToken: Redacted.make(`refresh-${label}`),
      tokenType: "Bearer",
      issuedAt,
      expiresAt: DateTime.addDuration(issuedAt, Duration.decode(lifetime))
    }))

export const refused = new OAuthError.OAuthApiError({
  status: 400,
  errorName: "invalid_grant",
  errorMsg: "the refresh token is invalid",
  body: Redacted.make("{}")
})

export const unavailable = new OAuthError.ServerError({ status: 503, body: Redacted.make("") })

/**
 * An `OAuthClient` whose refreshes answer from a queue the test fills: each refresh takes the next answer (waiting
 * for one if the queue is empty), so a test decides when and how the server answers. It records the refresh tokens
 * it was given.
 */
export const scriptedClient = Effect.gen(function*() {
  const answers = yield* Queue.unbounded<Effect.Effect<OAuthToken.OAuthToken, OAuthError.OAuthError>>()
  const presented = yield* Ref.make<ReadonlyArray<string>>([])
  const client = OAuthClient.OAuthClient.of({
    authorizeUrl: ({ state }) => `https://app.example/oauth/authorize?state=${state}`,
    exchangeCode: ({ code }) => issue(typeof code === "string" ? code : Redacted.value(code)),
    refresh: (refreshToken) =>
      Effect.zipRight(
        Ref.update(presented, (all) => [...all, Redacted.value(refreshToken)]),
        Effect.flatten(Queue.take(answers))
      )
  })
  return {
    client,
    /** Queues the next answer to a refresh. */
    answer: (effect: Effect.Effect<OAuthToken.OAuthToken, OAuthError.OAuthError>) => Queue.offer(answers, effect),
    presented: Ref.get(presented)
  }
})

/** Counts, fails or holds the operations of a memory store. */
export const instrumentedStore = Effect.gen(function*() {
  const inner = yield* TokenStore.makeMemory
  const gets = yield* Ref.make(0)
  const locks = yield* Ref.make(0)
  const failures = yield* Ref.make<ReadonlyArray<"get" | "set" | "lock">>([])
  const failOnce = (operation: "get" | "set" | "lock") =>
    Ref.modify(failures, (pending) => {
      const index = pending.indexOf(operation)
      return index === -1 ? [false, pending] : [true, pending.filter((_, i) => i !== index)]
    })
  const fault = (operation: "get" | "set" | "lock", account: AccountId.AccountId) =>
    Effect.flatMap(failOnce(operation), (fail) =>
      fail
        ? Effect.fail(
          new TokenError.TokenStoreError({ operation, account, reason: "the database connection failed (57P01)" })
        )
        : Effect.void)
  const store = TokenStore.TokenStore.of({
    // A real store's read is I/O: other fibers run while it is in flight.
    get: (account) =>
      Ref.update(gets, (n) => n + 1).pipe(
        Effect.zipRight(Effect.yieldNow()),
        Effect.zipRight(fault("get", account)),
        Effect.zipRight(inner.get(account))
      ),
    set: (account, token, options) => Effect.zipRight(fault("set", account), inner.set(account, token, options)),
    delete: inner.delete,
    list: inner.list,
    withRefreshLock: (account, effect) =>
      Ref.update(locks, (n) => n + 1).pipe(
        Effect.zipRight(fault("lock", account)),
        Effect.zipRight(inner.withRefreshLock(account, effect))
      )
  })
  return {
    store,
    /** The next `times` operations of this kind fail with a `TokenStoreError`, as a dropped connection would. */
    failNext: (operation: "get" | "set" | "lock", times = 1) =>
      Ref.update(failures, (pending) => [...pending, ...Array.from({ length: times }, () => operation)]),
    gets: Ref.get(gets),
    /** Refresh lock attempts: one per refresh started. */
    locks: Ref.get(locks)
  }
})

export const config = OAuthConfig.layer({
  clientId: "client-id",
  clientSecret: Redacted.make("client-secret"),
  // Deterministic windows: 10% of the lifetime (6 minutes of an hour, capped at 5), no jitter.
  refreshWindow: { jitter: 0 }
})

/** A manager over `client` and `store`, without the background refresher, retrying failed store writes at once. */
export const manager = (
  client: OAuthClient.Service,
  store: TokenStore.Service,
  options: TokenManager.Options = {}
) =>
  TokenManager.make({ backgroundRefresh: false, storeWriteRetry: Schedule.recurs(5), ...options }).pipe(
    Effect.provide(Layer.mergeAll(
      config,
      Layer.succeed(OAuthClient.OAuthClient, client),
      Layer.succeed(TokenStore.TokenStore, store)
    ))
  )
