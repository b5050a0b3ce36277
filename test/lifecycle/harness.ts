/**
 * A token manager wired to an in-memory FakeDropboxSign, for lifecycle tests.
 */
import type { OAuthApi, OAuthError, TokenError } from "@dropbox-sign-effect/oauth"
import type { OAuthClient, OAuthToken } from "@dropbox-sign-effect/oauth"
import { AccountId, OAuthConfig, OAuthState, TokenManager, TokenStore } from "@dropbox-sign-effect/oauth"
import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import type { HttpClient } from "@effect/platform"
import type { ConfigError } from "effect"
import type { Cause } from "effect"
import { Effect, Layer } from "effect"

export const config = (options: Partial<OAuthConfig.Options> = {}) =>
  OAuthConfig.layer({
    clientId: FakeDropboxSign.defaultApp.clientId,
    clientSecret: FakeDropboxSign.defaultApp.clientSecret,
    // Deterministic windows: 10% of the lifetime (6 minutes of an hour, capped at 5) without jitter.
    refreshWindow: { jitter: 0 },
    ...options
  })

/** The manager (and client) over `store`, sharing one fake through `fake`. */
export interface ManagerOptions {
  readonly manager?: TokenManager.Options
  readonly config?: Partial<OAuthConfig.Options>
}

type Provided = TokenManager.TokenManager | OAuthClient.OAuthClient | OAuthApi.OAuthApi | OAuthConfig.OAuthConfig

export const managerLayer = (
  options: ManagerOptions = {}
): Layer.Layer<Provided, ConfigError.ConfigError, TokenStore.TokenStore | HttpClient.HttpClient> =>
  TokenManager.layerWithClient({ backgroundRefresh: false, ...options.manager }).pipe(
    Layer.provideMerge(config(options.config))
  )

/** Everything over one in-memory fake and one memory store. */
export const layer = (
  options: ManagerOptions & { readonly fake?: FakeDropboxSign.Options } = {}
): Layer.Layer<
  Provided | TokenStore.TokenStore | FakeDropboxSign.FakeDropboxSign | HttpClient.HttpClient,
  ConfigError.ConfigError
> =>
  managerLayer(options).pipe(
    Layer.provideMerge(TokenStore.layerMemory),
    Layer.provideMerge(FakeDropboxSign.layerClientWith(options.fake))
  )

export const alice = AccountId.make("alice")
export const bob = AccountId.make("bob")

/** Authorizes `account` as the consent step would, skipping the browser. */
export const connect = (
  account: AccountId.AccountId = AccountId.defaultAccount
): Effect.Effect<
  OAuthToken.OAuthToken,
  TokenError.TokenError | OAuthError.OAuthError | Cause.NoSuchElementException,
  FakeDropboxSign.FakeDropboxSign | TokenManager.TokenManager
> =>
  Effect.gen(function*() {
    const fake = yield* FakeDropboxSign.FakeDropboxSign
    const manager = yield* TokenManager.TokenManager
    const state = yield* OAuthState.make
    const code = yield* fake.issueCode({ state })
    return yield* manager.authorize(account, { code, state }, state)
  })
