/**
 * The behaviour every `TokenStore` must have, as a reusable test suite: each store (memory, key-value, file system,
 * SQLite, PostgreSQL) runs these same tests, so they cannot drift apart.
 *
 * @since 0.1.0
 */
import { AccountId, OAuthToken, type TokenError, TokenStore } from "@dropbox-sign-effect/oauth"
import { describe, expect, it } from "@effect/vitest"
import type { Layer } from "effect"
import { Array as Arr, DateTime, Deferred, Effect, Either, Exit, Fiber, Option, Redacted, Ref, TestClock } from "effect"

/**
 * @since 0.1.0
 * @category models
 */
export interface RunOptions {
  /**
   * Lets a fiber that should now be waiting for a refresh lock reach the lock. Defaults to yielding a hundred times,
   * enough for an in-process lock; a store whose lock is remote (a database) should wait for a round trip.
   */
  readonly settle?: Effect.Effect<void> | undefined
}

/**
 * Canary secrets: the tests check they never appear in errors or inspected values.
 *
 * @since 0.1.0
 * @category fixtures
 */
export const canary = {
  accessToken: "canary-access-token-7f3a9c",
  refreshToken: "canary-refresh-token-41d2e8"
} as const

/**
 * A token whose secrets carry `canary` and `label` (so that different tokens are told apart).
 *
 * @since 0.1.0
 * @category fixtures
 */
export const makeToken = (label: string = "1"): OAuthToken.OAuthToken => {
  const issuedAt = DateTime.unsafeMake("2025-01-01T00:00:00.123Z")
  return new OAuthToken.OAuthToken({
    accessToken: Redacted.make(`${canary.accessToken}-${label}`),
    refreshToken: Redacted.make(`${canary.refreshToken}-${label}`),
    tokenType: "Bearer",
    issuedAt,
    expiresAt: DateTime.add(issuedAt, { hours: 1 })
  })
}

/**
 * Account ids that are awkward as keys or file names.
 *
 * @since 0.1.0
 * @category fixtures
 */
export const awkwardAccounts: ReadonlyArray<AccountId.AccountId> = [
  "user@example.com",
  "a/b\\c:d*e?f",
  ".",
  "..",
  "index",
  "CaseSensitive",
  "casesensitive",
  "ünïcødé 🙂 アカウント",
  "x".repeat(255)
].map(AccountId.make)

const secretsOf = (
  token: OAuthToken.OAuthToken
) => [Redacted.value(token.accessToken), Redacted.value(token.refreshToken)]

const expectSameToken = (actual: OAuthToken.OAuthToken, expected: OAuthToken.OAuthToken) => {
  expect(secretsOf(actual)).toStrictEqual(secretsOf(expected))
  expect(actual.tokenType).toBe(expected.tokenType)
  expect(DateTime.toEpochMillis(actual.issuedAt)).toBe(DateTime.toEpochMillis(expected.issuedAt))
  expect(DateTime.toEpochMillis(actual.expiresAt)).toBe(DateTime.toEpochMillis(expected.expiresAt))
}

const expectNoSecrets = (value: unknown) => {
  const texts = [String(value), JSON.stringify(value)]
  if (value instanceof Error) texts.push(value.message)
  for (const text of texts) {
    expect(text).not.toContain(canary.accessToken)
    expect(text).not.toContain(canary.refreshToken)
  }
}

const expectStale = (
  result: Either.Either<unknown, TokenError.StaleTokenError | TokenError.TokenStoreError>,
  expectedVersion: number | null,
  actualVersion: number | null
) => {
  expect(Either.isLeft(result)).toBe(true)
  if (Either.isLeft(result)) {
    expect(result.left._tag).toBe("StaleTokenError")
    if (result.left._tag === "StaleTokenError") {
      expect(result.left.expectedVersion).toBe(expectedVersion)
      expect(result.left.actualVersion).toBe(actualVersion)
    }
    expectNoSecrets(result.left)
  }
}

const account = AccountId.make("contract-account")
const other = AccountId.make("contract-other")

/** Reads `account` back: it holds `token` at `version`. */
const expectStored = (store: TokenStore.Service, version: number, token: OAuthToken.OAuthToken) =>
  Effect.gen(function*() {
    const read = yield* Effect.flatten(store.get(account))
    expect(read.version).toBe(version)
    expectSameToken(read.token, token)
  })

/**
 * Registers `describe(name)` with the contract tests. Each test builds its own store from `layer`, so `layer` must
 * create fresh state (a new temporary directory, schema or table prefix) and may clean it up with a finalizer.
 *
 * @since 0.1.0
 * @category tests
 * @example
 * ```ts
 * import { TokenStore } from "@dropbox-sign-effect/oauth"
 * import * as TokenStoreContract from "@dropbox-sign-effect/testing/TokenStoreContract"
 *
 * TokenStoreContract.run("TokenStore.layerMemory", TokenStore.layerMemory)
 * ```
 */
export const run = (
  name: string,
  layer: Layer.Layer<TokenStore.TokenStore, unknown>,
  options?: RunOptions | undefined
): void => {
  const settle = options?.settle ?? Effect.repeatN(Effect.yieldNow(), 100)

  const test = (title: string, body: (store: TokenStore.Service) => Effect.Effect<void, unknown>) =>
    it.effect(title, () => Effect.provide(Effect.flatMap(TokenStore.TokenStore, body), layer))

  describe(name, () => {
    test("get of an unknown account is None", (store) =>
      Effect.gen(function*() {
        expect(Option.isNone(yield* store.get(account))).toBe(true)
        expect(yield* store.list).toStrictEqual({ accounts: [], unreadable: [] })
      }))

    test("set creates version 1, active, at the Clock's time; get reads it back with its secrets", (store) =>
      Effect.gen(function*() {
        yield* TestClock.adjust("90 minutes")
        // What `set` returns and what `get` reads back: the same first entry, stamped with the Clock's time.
        const expectFirstEntry = (entry: TokenStore.StoredToken, token: OAuthToken.OAuthToken) => {
          expect(entry.account).toBe(account)
          expect(entry.version).toBe(1)
          expect(entry.status).toBe("active")
          expect(entry.statusReason).toBeUndefined()
          expect(DateTime.toEpochMillis(entry.updatedAt)).toBe(90 * 60 * 1000)
          expectSameToken(entry.token, token)
        }
        const token = makeToken()
        const written = yield* store.set(account, token, { expectedVersion: null })
        expectFirstEntry(written, token)

        const read = yield* Effect.flatten(store.get(account))
        expectFirstEntry(read, token)
        expect(OAuthToken.sameSecrets(read.token, token)).toBe(true)
        expectNoSecrets(read)
      }))

    test("every write increments the version by one", (store) =>
      Effect.gen(function*() {
        yield* store.set(account, makeToken("1"), { expectedVersion: null })
        for (let version = 1; version <= 5; version++) {
          const written = yield* store.set(account, makeToken(String(version + 1)), { expectedVersion: version })
          expect(written.version).toBe(version + 1)
        }
        yield* expectStored(store, 6, makeToken("6"))
      }))

    test("a write with a stale version fails with StaleTokenError and changes nothing", (store) =>
      Effect.gen(function*() {
        yield* store.set(account, makeToken("1"), { expectedVersion: null })
        yield* store.set(account, makeToken("2"), { expectedVersion: 1 })
        expectStale(yield* Effect.either(store.set(account, makeToken("3"), { expectedVersion: 1 })), 1, 2)
        expectStale(yield* Effect.either(store.set(account, makeToken("3"), { expectedVersion: 3 })), 3, 2)
        yield* expectStored(store, 2, makeToken("2"))
      }))

    test("creating (expectedVersion null) over an existing entry fails with StaleTokenError", (store) =>
      Effect.gen(function*() {
        yield* store.set(account, makeToken("1"), { expectedVersion: null })
        expectStale(yield* Effect.either(store.set(account, makeToken("2"), { expectedVersion: null })), null, 1)
        expectSameToken((yield* Effect.flatten(store.get(account))).token, makeToken("1"))
      }))

    test("updating an account that does not exist fails with StaleTokenError", (store) =>
      Effect.gen(function*() {
        expectStale(yield* Effect.either(store.set(account, makeToken(), { expectedVersion: 1 })), 1, null)
        expect(Option.isNone(yield* store.get(account))).toBe(true)
      }))

    test("concurrent compare-and-set on one version: exactly one writer wins", (store) =>
      Effect.gen(function*() {
        yield* store.set(account, makeToken("0"), { expectedVersion: null })
        const results = yield* Effect.forEach(
          Arr.range(1, 20),
          (i) => Effect.either(store.set(account, makeToken(String(i)), { expectedVersion: 1 })),
          { concurrency: "unbounded" }
        )
        const winners = Arr.getRights(results)
        expect(winners.length).toBe(1)
        for (const loser of Arr.getLefts(results)) expect(loser._tag).toBe("StaleTokenError")
        yield* expectStored(store, 2, Option.getOrThrow(Arr.head(winners)).token)
      }))

    test("status and reason round-trip and keep the refresh token", (store) =>
      Effect.gen(function*() {
        const token = makeToken()
        yield* store.set(account, token, { expectedVersion: null })
        const marked = yield* store.set(account, token, {
          expectedVersion: 1,
          status: "reauthorization_required",
          statusReason: "invalid_grant: the grant was revoked"
        })
        expect(marked.version).toBe(2)
        const read = yield* Effect.flatten(store.get(account))
        expect(read.status).toBe("reauthorization_required")
        expect(read.statusReason).toBe("invalid_grant: the grant was revoked")
        expect(Redacted.value(read.token.refreshToken)).toBe(Redacted.value(token.refreshToken))

        const reactivated = yield* store.set(account, makeToken("2"), { expectedVersion: 2 })
        expect(reactivated.status).toBe("active")
        const again = yield* Effect.flatten(store.get(account))
        expect(again.status).toBe("active")
        expect(again.statusReason).toBeUndefined()
      }))

    test("accounts are independent", (store) =>
      Effect.gen(function*() {
        yield* store.set(account, makeToken("a"), { expectedVersion: null })
        yield* store.set(other, makeToken("b"), { expectedVersion: null })
        yield* store.set(other, makeToken("b2"), { expectedVersion: 1 })
        const first = yield* Effect.flatten(store.get(account))
        const second = yield* Effect.flatten(store.get(other))
        expect([first.version, second.version]).toStrictEqual([1, 2])
        expectSameToken(first.token, makeToken("a"))
        expectSameToken(second.token, makeToken("b2"))
      }))

    test("delete removes the entry; deleting again is a no-op; the account can be created anew", (store) =>
      Effect.gen(function*() {
        yield* store.set(account, makeToken("1"), { expectedVersion: null })
        yield* store.set(other, makeToken("2"), { expectedVersion: null })
        yield* store.delete(account)
        expect(Option.isNone(yield* store.get(account))).toBe(true)
        expect(yield* store.list).toStrictEqual({ accounts: [other], unreadable: [] })
        yield* store.delete(account)
        const created = yield* store.set(account, makeToken("3"), { expectedVersion: null })
        expect(created.version).toBe(1)
        expectSameToken((yield* Effect.flatten(store.get(other))).token, makeToken("2"))
      }))

    test("list returns every stored account, awkward ids included, and each reads back", (store) =>
      Effect.gen(function*() {
        yield* Effect.forEach(
          awkwardAccounts,
          (id, i) => store.set(id, makeToken(String(i)), { expectedVersion: null }),
          { discard: true }
        )
        const listing = yield* store.list
        // Sorted by the store, in JavaScript's order, whatever the backend's own.
        expect(listing.accounts).toStrictEqual([...awkwardAccounts].sort())
        expect(listing.unreadable).toStrictEqual([])
        yield* Effect.forEach(awkwardAccounts, (id, i) =>
          Effect.gen(function*() {
            const read = yield* Effect.flatten(store.get(id))
            expect(read.account).toBe(id)
            expectSameToken(read.token, makeToken(String(i)))
          }))
      }))

    test("withRefreshLock returns the effect's value and its typed failure", (store) =>
      Effect.gen(function*() {
        expect(yield* store.withRefreshLock(account, Effect.succeed(42))).toBe(42)
        expect(yield* Effect.flip(store.withRefreshLock(account, Effect.fail("boom" as const)))).toBe("boom")
        // The failure released the lock.
        expect(yield* store.withRefreshLock(account, Effect.succeed("again"))).toBe("again")
      }))

    test("withRefreshLock serializes two holders of one account", (store) =>
      Effect.gen(function*() {
        const log = yield* Ref.make<ReadonlyArray<string>>([])
        const append = (line: string) => Ref.update(log, Arr.append(line))
        const firstEntered = yield* Deferred.make<void>()
        const releaseFirst = yield* Deferred.make<void>()
        const first = yield* Effect.fork(store.withRefreshLock(
          account,
          append("first: in").pipe(
            Effect.zipRight(Deferred.succeed(firstEntered, undefined)),
            Effect.zipRight(Deferred.await(releaseFirst)),
            Effect.zipRight(append("first: out"))
          )
        ))
        yield* Deferred.await(firstEntered)
        const second = yield* Effect.fork(store.withRefreshLock(account, append("second: in")))
        yield* settle
        expect(yield* Ref.get(log)).toStrictEqual(["first: in"])
        yield* Deferred.succeed(releaseFirst, undefined)
        yield* Fiber.join(first)
        yield* Fiber.join(second)
        expect(yield* Ref.get(log)).toStrictEqual(["first: in", "first: out", "second: in"])
      }))

    test("withRefreshLock does not block other accounts", (store) =>
      Effect.gen(function*() {
        const firstEntered = yield* Deferred.make<void>()
        const releaseFirst = yield* Deferred.make<void>()
        const first = yield* Effect.fork(store.withRefreshLock(
          account,
          Deferred.succeed(firstEntered, undefined).pipe(Effect.zipRight(Deferred.await(releaseFirst)))
        ))
        yield* Deferred.await(firstEntered)
        // Would hang (and time out) if `other` shared the lock of `account`.
        expect(yield* store.withRefreshLock(other, Effect.succeed("other"))).toBe("other")
        yield* Deferred.succeed(releaseFirst, undefined)
        yield* Fiber.join(first)
      }))

    test("an interrupted holder or waiter does not keep the lock", (store) =>
      Effect.gen(function*() {
        const holderEntered = yield* Deferred.make<void>()
        const holder = yield* Effect.fork(
          store.withRefreshLock(account, Effect.zipRight(Deferred.succeed(holderEntered, undefined), Effect.never))
        )
        yield* Deferred.await(holderEntered)
        const waiter = yield* Effect.fork(store.withRefreshLock(account, Effect.succeed("waiter")))
        yield* settle
        yield* Fiber.interrupt(waiter)
        yield* Fiber.interrupt(holder)
        expect(Exit.isInterrupted(yield* Fiber.await(holder))).toBe(true)
        expect(yield* store.withRefreshLock(account, Effect.succeed("next"))).toBe("next")
      }))

    test("stored values and errors never reveal the secrets", (store) =>
      Effect.gen(function*() {
        const written = yield* store.set(account, makeToken(), { expectedVersion: null })
        expectNoSecrets(written)
        expectNoSecrets(written.token)
        expectNoSecrets(yield* store.get(account))
        const stale = yield* Effect.flip(store.set(account, makeToken(), { expectedVersion: null }))
        expectNoSecrets(stale)
      }))
  })
}
