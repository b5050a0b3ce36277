/**
 * The contract's tests of entries: reads, versioned compare-and-set writes, status, deletion, listing and secrecy.
 */
import { OAuthToken, type TokenStore } from "@dropbox-sign-effect/oauth"
import { expect } from "@effect/vitest"
import { Array as Arr, DateTime, Effect, Option, Redacted, TestClock } from "effect"

import {
  account,
  awkwardAccounts,
  expectNoSecrets,
  expectSameToken,
  expectStale,
  expectStored,
  makeToken,
  other,
  type StoreTest
} from "./contractFixtures.js"

/** Registers the entry tests with `test`. */
export const entryTests = (test: StoreTest): void => {
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

  test("stored values and errors never reveal the secrets", (store) =>
    Effect.gen(function*() {
      const written = yield* store.set(account, makeToken(), { expectedVersion: null })
      expectNoSecrets(written)
      expectNoSecrets(written.token)
      expectNoSecrets(yield* store.get(account))
      const stale = yield* Effect.flip(store.set(account, makeToken(), { expectedVersion: null }))
      expectNoSecrets(stale)
    }))
}
