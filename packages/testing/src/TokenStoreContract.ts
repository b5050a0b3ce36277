/**
 * The behaviour every `TokenStore` must have, as a reusable test suite: each store (memory, key-value, file system,
 * SQLite, PostgreSQL) runs these same tests, so they cannot drift apart.
 *
 * @since 0.1.0
 */
import { type AccountId, type OAuthToken, TokenStore } from "@dropbox-sign-effect/oauth"
import { describe, it } from "@effect/vitest"
import type { Layer } from "effect"
import { Effect } from "effect"

import { entryTests } from "./internal/contractEntries.js"
import * as fixtures from "./internal/contractFixtures.js"
import { lockTests } from "./internal/contractLocks.js"

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
export const canary: typeof fixtures.canary = fixtures.canary

/**
 * A token whose secrets carry `canary` and `label` (so that different tokens are told apart).
 *
 * @since 0.1.0
 * @category fixtures
 */
export const makeToken: (label?: string) => OAuthToken.OAuthToken = fixtures.makeToken

/**
 * Account ids that are awkward as keys or file names.
 *
 * @since 0.1.0
 * @category fixtures
 */
export const awkwardAccounts: ReadonlyArray<AccountId.AccountId> = fixtures.awkwardAccounts

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

  const test: fixtures.StoreTest = (title, body) =>
    it.effect(title, () => Effect.provide(Effect.flatMap(TokenStore.TokenStore, body), layer))

  describe(name, () => {
    entryTests(test)
    lockTests(test, settle)
  })
}
