/**
 * Where tokens live: one entry per account, written with compare-and-set so that a stale writer can never replace a
 * newer refresh token.
 *
 * @since 0.1.0
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import type * as Path from "@effect/platform/Path"
import type { DateTime, Schema } from "effect"
import { Context, Effect, HashMap, Layer, Option, Ref } from "effect"

import type { AccountId } from "./AccountId.js"
import * as internalEncoding from "./internal/storeEncoding.js"
import * as internalFileSystem from "./internal/storeFileSystem.js"
import * as internalKeyValue from "./internal/storeKeyValue.js"
import * as internalLocks from "./internal/storeLocks.js"
import * as internalTracing from "./internal/storeTracing.js"
import * as OAuthToken from "./OAuthToken.js"
import * as TokenCipher from "./TokenCipher.js"
import { StaleTokenError, type TokenStoreError } from "./TokenError.js"

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
  /** Every account with a stored entry. */
  readonly list: Effect.Effect<ReadonlyArray<AccountId>, TokenStoreError>
  /**
   * Runs `effect` while holding the account's refresh lock. In-process stores lock within the process; SQL stores
   * lock across every process sharing the database.
   */
  readonly withRefreshLock: <A, E, R>(
    account: AccountId,
    effect: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | TokenStoreError, R>
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
export const makeMemory: Effect.Effect<Service> = Effect.gen(function*() {
  type Entries = HashMap.HashMap<AccountId, StoredToken>
  const entries = yield* Ref.make<Entries>(HashMap.empty())
  const locks = yield* internalLocks.make
  const set: Service["set"] = (account, token, options) =>
    Effect.flatMap(
      OAuthToken.now,
      (updatedAt) =>
        Effect.flatten(Ref.modify(entries, (map): readonly [Effect.Effect<StoredToken, StaleTokenError>, Entries] => {
          const actualVersion = Option.match(HashMap.get(map, account), {
            onNone: () => null,
            onSome: (entry) => entry.version
          })
          if (actualVersion !== options.expectedVersion) {
            const stale = new StaleTokenError({ account, expectedVersion: options.expectedVersion, actualVersion })
            return [Effect.fail(stale), map]
          }
          const entry: StoredToken = {
            account,
            token,
            version: (actualVersion ?? 0) + 1,
            status: options.status ?? "active",
            statusReason: options.statusReason,
            updatedAt
          }
          return [Effect.succeed(entry), HashMap.set(map, account, entry)]
        }))
    )
  return internalTracing.withSpans("memory", {
    get: (account) => Effect.map(Ref.get(entries), HashMap.get(account)),
    set,
    delete: (account) => Ref.update(entries, HashMap.remove(account)),
    list: Effect.map(Ref.get(entries), (map): ReadonlyArray<AccountId> => Array.from(HashMap.keys(map)).sort()),
    withRefreshLock: locks.withLock
  })
})

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
        { get: store.get, set: store.set, remove: store.remove, keys: Option.none() },
        { prefix: options?.prefix ?? "dropbox-sign-token.", cipher: options?.cipher ?? TokenCipher.plaintext }
      ),
      (service) => internalTracing.withSpans("key-value", service)
    ))

const cipherFor = (encrypted: boolean | undefined) =>
  encrypted === true ? TokenCipher.TokenCipher : Effect.succeed(TokenCipher.plaintext)

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
export function layerKeyValueStore(
  options: { readonly prefix?: string | undefined; readonly encrypted: true }
): Layer.Layer<TokenStore, never, KeyValueStore.KeyValueStore | TokenCipher.TokenCipher>
export function layerKeyValueStore(
  options?: { readonly prefix?: string | undefined; readonly encrypted?: false | undefined }
): Layer.Layer<TokenStore, never, KeyValueStore.KeyValueStore>
export function layerKeyValueStore(
  options?: { readonly prefix?: string | undefined; readonly encrypted?: boolean | undefined }
): Layer.Layer<TokenStore, never, KeyValueStore.KeyValueStore | TokenCipher.TokenCipher> {
  return Layer.effect(
    TokenStore,
    Effect.flatMap(cipherFor(options?.encrypted), (cipher) => makeKeyValueStore({ prefix: options?.prefix, cipher }))
  )
}

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
    Effect.map((service) => internalTracing.withSpans("file-system", service))
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
export function layerFileSystem(
  directory: string,
  options: { readonly encrypted: true }
): Layer.Layer<TokenStore, TokenStoreError, FileSystem.FileSystem | Path.Path | TokenCipher.TokenCipher>
export function layerFileSystem(
  directory: string,
  options?: { readonly encrypted?: false | undefined }
): Layer.Layer<TokenStore, TokenStoreError, FileSystem.FileSystem | Path.Path>
export function layerFileSystem(
  directory: string,
  options?: { readonly encrypted?: boolean | undefined }
): Layer.Layer<TokenStore, TokenStoreError, FileSystem.FileSystem | Path.Path | TokenCipher.TokenCipher> {
  return Layer.effect(
    TokenStore,
    Effect.flatMap(cipherFor(options?.encrypted), (cipher) => makeFileSystem(directory, { cipher }))
  )
}

/**
 * @since 0.1.0
 * @category models
 */
export interface EncodingOptions {
  /** Defaults to `TokenCipher.plaintext`. */
  readonly cipher?: TokenCipher.Service | undefined
}

/**
 * The stored form of an entry, for store implementations (the SQL store uses it): versioned JSON
 * `{"format":1,"account","version","status","statusReason"?,"updatedAt","token"}` with the token's secrets in clear,
 * then passed through the cipher (`enc:v1:…` when encrypting).
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeEntry = (entry: StoredToken, options?: EncodingOptions | undefined): Effect.Effect<
  string,
  TokenStoreError
> => internalEncoding.encode(entry, options?.cipher ?? TokenCipher.plaintext)

/**
 * Reads what `encodeEntry` wrote. Fails with `TokenStoreError` (never a defect, never with a secret in the message)
 * when the value cannot be decrypted, is not JSON, has an unknown `format`, does not match the format, or belongs to
 * another account than `account`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const decodeEntry = (
  account: AccountId,
  stored: string,
  options?: EncodingOptions | undefined
): Effect.Effect<StoredToken, TokenStoreError> =>
  internalEncoding.decode(stored, options?.cipher ?? TokenCipher.plaintext, account)

/**
 * A lock per account within this process (one single-permit semaphore per key, created on first use): for store
 * implementations, whose compare-and-set or refresh lock must at least serialize the fibers of one process.
 *
 * @since 0.1.0
 * @category utils
 */
export type KeyedLocks = internalLocks.KeyedLocks

/**
 * @since 0.1.0
 * @category utils
 */
export const makeKeyedLocks: Effect.Effect<KeyedLocks> = internalLocks.make
