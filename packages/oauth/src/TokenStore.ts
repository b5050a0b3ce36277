/**
 * Where tokens live: one entry per account, written with compare-and-set so that a stale writer can never replace a
 * newer refresh token. Store implementations are built from `TokenStoreKit`.
 *
 * @since 0.1.0
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import type * as Path from "@effect/platform/Path"
import type { DateTime, Schema } from "effect"
import { Context, Effect, Layer, Option } from "effect"

import type { AccountId } from "./AccountId.js"
import * as internalEncoding from "./internal/storeEncoding.js"
import * as internalFileSystem from "./internal/storeFileSystem.js"
import * as internalKeyValue from "./internal/storeKeyValue.js"
import * as internalMemory from "./internal/storeMemory.js"
import type * as OAuthToken from "./OAuthToken.js"
import * as TokenCipher from "./TokenCipher.js"
import type { StaleTokenError, TokenStoreError } from "./TokenError.js"
import * as TokenStoreKit from "./TokenStoreKit.js"

/**
 * `active`: the token can be used and refreshed. `reauthorization_required`: the grant is gone; the refresh token is
 * kept (nothing is ever deleted implicitly) but the manager will not present it again.
 *
 * @since 0.1.0
 * @category models
 */
export const AccountStatus: Schema.Literal<["active", "reauthorization_required"]> = internalEncoding.AccountStatus

/**
 * @since 0.1.0
 * @category models
 */
export type AccountStatus = typeof AccountStatus.Type

/**
 * A stored entry. `version` starts at 1 and grows by one on every write.
 *
 * @since 0.1.0
 * @category models
 */
export interface StoredToken {
  readonly account: AccountId
  readonly token: OAuthToken.OAuthToken
  readonly version: number
  readonly status: AccountStatus
  readonly statusReason?: string | undefined
  readonly updatedAt: DateTime.Utc
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SetOptions {
  /** The version read before this write; `null` when the account must not exist yet. */
  readonly expectedVersion: number | null
  /** Defaults to `active`. */
  readonly status?: AccountStatus | undefined
  readonly statusReason?: string | undefined
}

/**
 * A stored entry that could not be read while listing (corrupt, unknown format, wrong key): the other entries are
 * listed all the same.
 *
 * @since 0.1.0
 * @category models
 */
export interface UnreadableEntry {
  /** Where the entry is, in the store's terms (a file path, a key): never a secret. */
  readonly location: string
  /** The account, when the store knows it without reading the entry (a database row does, a file name does not). */
  readonly account?: AccountId | undefined
  readonly reason: string
}

/**
 * What `list` found: the accounts whose entries can be read, and the entries that cannot.
 *
 * @since 0.1.0
 * @category models
 */
export interface Listing {
  /** Sorted. */
  readonly accounts: ReadonlyArray<AccountId>
  readonly unreadable: ReadonlyArray<UnreadableEntry>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly get: (account: AccountId) => Effect.Effect<Option.Option<StoredToken>, TokenStoreError>
  /** Compare-and-set: fails with `StaleTokenError` unless the stored version is `expectedVersion`. */
  readonly set: (
    account: AccountId,
    token: OAuthToken.OAuthToken,
    options: SetOptions
  ) => Effect.Effect<StoredToken, StaleTokenError | TokenStoreError>
  readonly delete: (account: AccountId) => Effect.Effect<void, TokenStoreError>
  /**
   * Every account with a stored entry. An entry that cannot be read is reported in `unreadable`, one by one; the
   * listing fails only when the store itself cannot be read.
   */
  readonly list: Effect.Effect<Listing, TokenStoreError>
  /**
   * Runs `effect` while holding the account's refresh lock. In-process stores lock within the process; SQL stores
   * lock across every process sharing the database.
   */
  readonly withRefreshLock: <A, E, R>(
    account: AccountId,
    effect: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | TokenStoreError, R>
  /**
   * True when the refresh lock is shared by several processes (a database lock), and can therefore be lost by its
   * holder mid-refresh, a connection terminated, say: the manager then confirms a refusal against the store before
   * recording it (`TokenManager.Options.refusalConfirmation`). Absent for an in-process lock.
   */
  readonly sharedRefreshLock?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category tags
 */
export class TokenStore extends Context.Tag("@dropbox-sign-effect/oauth/TokenStore")<TokenStore, Service>() {}

/**
 * An in-memory store: tokens live as long as the layer. Compare-and-set is one atomic `Ref.modify`; the refresh lock
 * is a semaphore per account. Nothing is encrypted, since nothing is at rest.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<Service> = internalMemory.make

/**
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<TokenStore> = Layer.effect(TokenStore, makeMemory)

/**
 * @since 0.1.0
 * @category models
 */
export interface KeyValueStoreOptions {
  /** Prefixes every key this store writes. Defaults to `"dropbox-sign-token."`. */
  readonly prefix?: string | undefined
  /** Encrypts entries at rest. Defaults to `TokenCipher.plaintext`. */
  readonly cipher?: TokenCipher.Service | undefined
}

/**
 * A store over any `@effect/platform` `KeyValueStore`.
 *
 * - Each entry is the versioned encoding of `encodeEntry`, under `prefix` + the SHA-256 of the account in hex (safe as
 *   a file name, whatever the account). A corrupt or unknown-format entry fails `get` and `set` with
 *   `TokenStoreError`; it is never overwritten implicitly (`delete` removes it).
 * - `KeyValueStore` cannot enumerate its keys, so the store keeps its accounts in one more entry, `prefix + "index"`.
 * - Compare-and-set and the refresh lock hold within this process only: processes sharing one backend need the SQL
 *   store of `@dropbox-sign-effect/sql`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeKeyValueStore = (
  options?: KeyValueStoreOptions | undefined
): Effect.Effect<Service, never, KeyValueStore.KeyValueStore> =>
  Effect.flatMap(KeyValueStore.KeyValueStore, (store) =>
    Effect.map(
      internalKeyValue.make(
        {
          get: store.get,
          set: store.set,
          remove: store.remove,
          keys: Option.none(),
          location: (key) => `key "${key}"`
        },
        { prefix: options?.prefix ?? "dropbox-sign-token.", cipher: options?.cipher ?? TokenCipher.plaintext }
      ),
      (service) => TokenStoreKit.withSpans("key-value", service)
    ))

/**
 * A store over the `KeyValueStore` in context (see `makeKeyValueStore`). With `encrypted: true` it also requires a
 * `TokenCipher`, so an application cannot ask for encryption and silently store plaintext.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * ```ts
 * import { TokenStore } from "@dropbox-sign-effect/oauth"
 * import { KeyValueStore } from "@effect/platform"
 * import { Layer } from "effect"
 *
 * // Any KeyValueStore works; for files prefer `TokenStore.layerFileSystem`, which writes atomically with mode 0600.
 * const StoreLive = TokenStore.layerKeyValueStore().pipe(Layer.provide(KeyValueStore.layerMemory))
 * ```
 */
export const layerKeyValueStore = <
  const Options extends { readonly prefix?: string | undefined } & TokenStoreKit.CipherOptions = {}
>(
  options?: Options
): Layer.Layer<TokenStore, never, KeyValueStore.KeyValueStore | TokenStoreKit.CipherRequirement<Options>> =>
  Layer.effect(
    TokenStore,
    Effect.flatMap(
      TokenStoreKit.cipherFor(options),
      (cipher) => makeKeyValueStore({ prefix: options?.prefix, cipher })
    )
  )

/**
 * @since 0.1.0
 * @category models
 */
export interface FileSystemOptions {
  /** Encrypts entries at rest. Defaults to `TokenCipher.plaintext`. */
  readonly cipher?: TokenCipher.Service | undefined
}

/**
 * A store in a directory, one file per account (`<sha256 of the account>.token`).
 *
 * Why not `KeyValueStore.layerFileSystem` of `@effect/platform`? It writes files in place (a crash can leave a torn
 * refresh token) and with the default mode (often readable by every user). This store writes each entry to a
 * temporary file in the same directory, created with mode 0600 and flushed, then renames it over the old one, so
 * readers and crashes see the old entry or the new one; it creates the directory with mode 0700; and `list` reads the
 * directory instead of keeping an index. Any other `KeyValueStore`, including platform's, still works through
 * `makeKeyValueStore` / `layerKeyValueStore`.
 *
 * Compare-and-set and the refresh lock hold within this process only: several processes must not share a directory
 * (use the SQL store of `@dropbox-sign-effect/sql`). Fails with `TokenStoreError` when the directory cannot be created.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeFileSystem = (
  directory: string,
  options?: FileSystemOptions | undefined
): Effect.Effect<Service, TokenStoreError, FileSystem.FileSystem | Path.Path> =>
  internalFileSystem.makeBackend(directory).pipe(
    Effect.flatMap((backend) =>
      internalKeyValue.make(backend, { prefix: "", cipher: options?.cipher ?? TokenCipher.plaintext })
    ),
    Effect.map((service) => TokenStoreKit.withSpans("file-system", service))
  )

/**
 * A store in a directory (see `makeFileSystem`). With `encrypted: true` it also requires a `TokenCipher`.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * ```ts
 * import { TokenCipher, TokenStore } from "@dropbox-sign-effect/oauth"
 * import { NodeContext } from "@effect/platform-node"
 * import { Layer } from "effect"
 *
 * const StoreLive = TokenStore.layerFileSystem("./.tokens", { encrypted: true }).pipe(
 *   Layer.provide([TokenCipher.layerConfig(), NodeContext.layer])
 * )
 * ```
 */
export const layerFileSystem = <const Options extends TokenStoreKit.CipherOptions = {}>(
  directory: string,
  options?: Options
): Layer.Layer<
  TokenStore,
  TokenStoreError,
  FileSystem.FileSystem | Path.Path | TokenStoreKit.CipherRequirement<Options>
> =>
  Layer.effect(
    TokenStore,
    Effect.flatMap(TokenStoreKit.cipherFor(options), (cipher) => makeFileSystem(directory, { cipher }))
  )
