import * as Crypto from "node:crypto"

import type { PlatformError } from "@effect/platform/Error"
import { Array as Arr, DateTime, Effect, Either, Option, Schema } from "effect"

import { AccountId } from "../AccountId.js"
import type * as TokenCipher from "../TokenCipher.js"
import { type StoreOperation, TokenStoreError } from "../TokenError.js"
import type { Listing, Service, UnreadableEntry } from "../TokenStore.js"
import * as EntryEncoding from "./storeEncoding.js"
import * as Locks from "./storeLocks.js"
import { nextEntry } from "./storeNextEntry.js"

/**
 * What a string-keyed backend must offer. `keys` is present when the backend can enumerate what it holds (a
 * directory); otherwise the store keeps an index entry of accounts, because `KeyValueStore` cannot list.
 *
 * @internal
 */
export interface Backend {
  readonly get: (key: string) => Effect.Effect<Option.Option<string>, PlatformError>
  readonly set: (key: string, value: string) => Effect.Effect<void, PlatformError>
  readonly remove: (key: string) => Effect.Effect<void, PlatformError>
  readonly keys: Option.Option<Effect.Effect<ReadonlyArray<string>, PlatformError>>
  /** Where `key` is, for messages: a file path, or the key itself. Never a secret. */
  readonly location: (key: string) => string
}

/**
 * Keys are the SHA-256 of the account in lower-case hex: safe as file names on every file system (including
 * case-insensitive ones, where base64 could collide), of fixed length whatever the account, and they do not reveal
 * the account (often an e-mail address) in a directory listing. The account itself is inside the entry.
 *
 * @internal
 */
export const accountKey = (account: AccountId): string =>
  Crypto.createHash("sha256").update(account, "utf8").digest("hex")

const isAccountKey = (key: string): boolean => /^[0-9a-f]{64}$/.test(key)

const IndexJson = Schema.parseJson(Schema.Struct({
  format: Schema.Literal(1),
  accounts: Schema.Array(AccountId)
}))
const decodeIndex = Schema.decodeUnknownEither(IndexJson)
const encodeIndex = Schema.encode(IndexJson)

const storeError =
  (operation: StoreOperation, account?: AccountId | undefined) => (error: PlatformError | TokenStoreError) =>
    new TokenStoreError({
      operation,
      ...(account === undefined ? {} : { account }),
      reason: error._tag === "TokenStoreError" ? error.reason : error.message
    })

/** @internal */
export interface Options {
  readonly prefix: string
  readonly cipher: TokenCipher.Service
}

/**
 * A `TokenStore` over string keys and values. Compare-and-set is a read, a check and a write, made atomic within the
 * process by one write semaphore; it is not atomic across processes sharing the backend (use the SQL store there).
 *
 * @internal
 */
export const make = (backend: Backend, options: Options): Effect.Effect<Service> =>
  Effect.gen(function*() {
    const { cipher, prefix } = options
    const writeLock = yield* Effect.makeSemaphore(1)
    const refreshLocks = yield* Locks.make
    const keyOf = (account: AccountId) => prefix + accountKey(account)
    const indexKey = `${prefix}index`

    const get = (account: AccountId) =>
      backend.get(keyOf(account)).pipe(
        Effect.mapError(storeError("get", account)),
        Effect.flatMap((text) => EntryEncoding.decodeOption(text, cipher, account))
      )

    const readIndex = (operation: StoreOperation) =>
      backend.get(indexKey).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.succeed<ReadonlyArray<AccountId>>([]),
          onSome: (text) =>
            Effect.flatMap(cipher.decrypt(text), (plaintext) =>
              Either.match(decodeIndex(plaintext), {
                onLeft: () =>
                  Effect.fail(
                    new TokenStoreError({ operation, reason: `the account index (key "${indexKey}") is corrupt` })
                  ),
                onRight: (index) => Effect.succeed(index.accounts)
              }))
        })),
        Effect.mapError(storeError(operation))
      )

    const writeIndex = (operation: StoreOperation, accounts: ReadonlyArray<AccountId>) =>
      encodeIndex({ format: 1, accounts: [...accounts].sort() }).pipe(
        Effect.mapError(() => new TokenStoreError({ operation, reason: "the account index cannot be encoded" })),
        Effect.flatMap(cipher.encrypt),
        Effect.flatMap((text) => backend.set(indexKey, text)),
        Effect.mapError(storeError(operation))
      )

    const updateIndex = (
      operation: StoreOperation,
      f: (accounts: ReadonlyArray<AccountId>) => Option.Option<ReadonlyArray<AccountId>>
    ) =>
      Option.isSome(backend.keys)
        ? Effect.void
        : Effect.flatMap(readIndex(operation), (accounts) =>
          Option.match(f(accounts), {
            onNone: () => Effect.void,
            onSome: (updated) => writeIndex(operation, updated)
          }))

    const set: Service["set"] = (account, token, setOptions) =>
      writeLock.withPermits(1)(Effect.gen(function*() {
        const current = yield* get(account)
        const entry = yield* nextEntry(
          account,
          token,
          setOptions,
          Option.match(current, { onNone: () => null, onSome: (stored) => stored.version }),
          yield* DateTime.now
        )
        const text = yield* EntryEncoding.encode(entry, cipher)
        // The index is written before the entry: a crash in between leaves an indexed account without an entry,
        // which `list` skips, rather than an entry that `list` would never report.
        yield* updateIndex(
          "set",
          (accounts) => accounts.includes(account) ? Option.none() : Option.some([...accounts, account])
        )
        yield* Effect.mapError(backend.set(keyOf(account), text), storeError("set", account))
        return entry
      }))

    const del: Service["delete"] = (account) =>
      writeLock.withPermits(1)(
        backend.remove(keyOf(account)).pipe(
          // Some backends (platform's file store) fail to remove a missing key; deleting nothing is not an error.
          Effect.catchIf((error) => error._tag === "SystemError" && error.reason === "NotFound", () => Effect.void),
          Effect.mapError(storeError("delete", account)),
          Effect.zipRight(updateIndex(
            "delete",
            (accounts) =>
              accounts.includes(account) ? Option.some(accounts.filter((known) => known !== account)) : Option.none()
          ))
        )
      )

    // An entry that cannot be read is reported on its own: one corrupt file must not hide every other account.
    const readListed = (
      key: string
    ): Effect.Effect<Option.Option<Either.Either<AccountId, UnreadableEntry>>, TokenStoreError> =>
      backend.get(key).pipe(
        Effect.mapError(storeError("list")),
        Effect.flatMap(Option.match({
          // An entry deleted since the listing is simply gone.
          onNone: () => Effect.succeedNone,
          onSome: (text) =>
            EntryEncoding.decode(text, cipher).pipe(
              Effect.filterOrFail(
                (entry) => keyOf(entry.account) === key,
                () => new TokenStoreError({ operation: "decode", reason: "the entry belongs to another account" })
              ),
              Effect.match({
                onFailure: (error) =>
                  Option.some(Either.left({ location: backend.location(key), reason: error.reason })),
                onSuccess: (entry) => Option.some(Either.right(entry.account))
              })
            )
        }))
      )

    const listFromKeys = (keys: Effect.Effect<ReadonlyArray<string>, PlatformError>) =>
      keys.pipe(
        Effect.mapError(storeError("list")),
        Effect.flatMap((keys) =>
          Effect.forEach(
            keys.filter((key) => key.startsWith(prefix) && isAccountKey(key.slice(prefix.length))),
            readListed,
            { concurrency: 8 }
          )
        ),
        Effect.map((found): Listing => {
          const [unreadable, accounts] = Arr.partitionMap(Arr.getSomes(found), (either) => either)
          return { accounts: [...accounts].sort(), unreadable }
        })
      )

    const listFromIndex = Effect.flatMap(readIndex("list"), (accounts) =>
      Effect.filter(
        accounts,
        (account) =>
          Effect.mapError(Effect.map(backend.get(keyOf(account)), Option.isSome), storeError("list", account)),
        { concurrency: 8 }
      )).pipe(Effect.map((accounts): Listing => ({ accounts: [...accounts].sort(), unreadable: [] })))

    const list = Option.match(backend.keys, { onNone: () => listFromIndex, onSome: listFromKeys })

    return {
      get,
      set,
      delete: del,
      list,
      withRefreshLock: (account, effect) => refreshLocks.withLock(account, effect)
    }
  })
