/**
 * The fixtures and assertions of the `TokenStore` contract: canary tokens, awkward account ids, and the checks every
 * contract test makes (same token, no secret shown, stale write).
 */
import { AccountId, OAuthToken, type TokenError, type TokenStore } from "@dropbox-sign-effect/oauth"
import { expect } from "@effect/vitest"
import { DateTime, Effect, Either, Redacted } from "effect"

/** One contract test: a title, and a body run against a fresh store built from the store's layer. */
export type StoreTest = (title: string, body: (store: TokenStore.Service) => Effect.Effect<void, unknown>) => void

/** Canary secrets: the tests check they never appear in errors or inspected values. */
export const canary = {
  accessToken: "canary-access-token-7f3a9c",
  refreshToken: "canary-refresh-token-41d2e8"
} as const

/** A token whose secrets carry `canary` and `label` (so that different tokens are told apart). */
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

/** Account ids that are awkward as keys or file names. */
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

/** Field by field: a store may hand back a new `OAuthToken` instance, so identity says nothing. */
export const expectSameToken = (actual: OAuthToken.OAuthToken, expected: OAuthToken.OAuthToken) => {
  expect(secretsOf(actual)).toStrictEqual(secretsOf(expected))
  expect(actual.tokenType).toBe(expected.tokenType)
  expect(DateTime.toEpochMillis(actual.issuedAt)).toBe(DateTime.toEpochMillis(expected.issuedAt))
  expect(DateTime.toEpochMillis(actual.expiresAt)).toBe(DateTime.toEpochMillis(expected.expiresAt))
}

/** Neither canary appears in any printed form of `value` (or its message, for an error). */
export const expectNoSecrets = (value: unknown) => {
  const texts = [String(value), JSON.stringify(value)]
  if (value instanceof Error) texts.push(value.message)
  for (const text of texts) {
    expect(text).not.toContain(canary.accessToken)
    expect(text).not.toContain(canary.refreshToken)
  }
}

/** `result` failed with a `StaleTokenError` naming both versions, and shows no secret. */
export const expectStale = (
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

/** The accounts the tests write: two, so that independence can be checked. */
export const account = AccountId.make("contract-account")
export const other = AccountId.make("contract-other")

/** Reads `account` back: it holds `token` at `version`. */
export const expectStored = (store: TokenStore.Service, version: number, token: OAuthToken.OAuthToken) =>
  Effect.gen(function*() {
    const read = yield* Effect.flatten(store.get(account))
    expect(read.version).toBe(version)
    expectSameToken(read.token, token)
  })
