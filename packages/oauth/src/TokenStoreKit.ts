/**
 * What every token store is built from, for whoever writes one (the memory, key-value, file and SQL stores use exactly
 * this): the stored form of an entry, the compare-and-set rule that makes the next entry, per-account locks within a
 * process, the choice of cipher, and the spans every store emits. An application never needs this module.
 *
 * @since 0.1.0
 */
import type { DateTime } from "effect"
import type { Either } from "effect"
import { Effect } from "effect"

import type { AccountId } from "./AccountId.js"
import * as internalEncoding from "./internal/storeEncoding.js"
import * as internalLocks from "./internal/storeLocks.js"
import * as internalNextEntry from "./internal/storeNextEntry.js"
import * as internalTracing from "./internal/storeTracing.js"
import type { OAuthToken } from "./OAuthToken.js"
import * as TokenCipher from "./TokenCipher.js"
import type { StaleTokenError, TokenStoreError } from "./TokenError.js"
import type { Service, SetOptions, StoredToken } from "./TokenStore.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface EncodingOptions {
  /** Defaults to `TokenCipher.plaintext`. */
  readonly cipher?: TokenCipher.Service | undefined
}

/**
 * The stored form of an entry: versioned JSON `{"format":1,"account","version","status","statusReason"?,"updatedAt",
 * "token"}` with the token's secrets in clear, then passed through the cipher (`enc:v1:…` when encrypting).
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeEntry = (
  entry: StoredToken,
  options?: EncodingOptions | undefined
): Effect.Effect<string, TokenStoreError> => internalEncoding.encode(entry, options?.cipher ?? TokenCipher.plaintext)

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
 * The compare-and-set rule, the one place it is written: a write expecting `options.expectedVersion` succeeds only
 * if that is the version stored now (`actualVersion`, `null` for no entry), and then makes version
 * `expectedVersion + 1` (1 for a new entry), `active` unless `options.status` says otherwise, stamped `updatedAt`.
 *
 * A store that checks the version in one atomic statement of its own (SQL's `UPDATE … WHERE version = $expected`)
 * passes `options.expectedVersion` as `actualVersion` to build the entry, and reports a lost race itself.
 *
 * @since 0.1.0
 * @category compare-and-set
 */
export const nextEntry: (
  account: AccountId,
  token: OAuthToken,
  options: SetOptions,
  actualVersion: number | null,
  updatedAt: DateTime.Utc
) => Either.Either<StoredToken, StaleTokenError> = internalNextEntry.nextEntry

/**
 * A lock per key within this process (one single-permit semaphore per key, created on first use). A store's
 * compare-and-set or refresh lock must at least serialize the fibers of one process; a store shared by processes adds
 * its own lock on top (the SQL store queues its fibers here before taking a database lock).
 *
 * @since 0.1.0
 * @category locks
 */
export type KeyedLocks = internalLocks.KeyedLocks

/**
 * @since 0.1.0
 * @category locks
 */
export const makeKeyedLocks: Effect.Effect<KeyedLocks> = internalLocks.make

/**
 * The options every store layer takes to encrypt at rest.
 *
 * @since 0.1.0
 * @category cipher
 */
export interface CipherOptions {
  /** Encrypt entries with the `TokenCipher` in context. */
  readonly encrypted?: boolean | undefined
}

/**
 * What a store layer requires for its options: a `TokenCipher` unless encryption is certainly off, so that an
 * application cannot ask for encryption and silently store plaintext.
 *
 * @since 0.1.0
 * @category cipher
 */
export type CipherRequirement<Options> = "encrypted" extends keyof Options
  ? Options[Extract<"encrypted", keyof Options>] extends false | undefined ? never : TokenCipher.TokenCipher
  : never

/**
 * The cipher a store layer uses: the `TokenCipher` in context when `encrypted`, plaintext otherwise.
 *
 * @since 0.1.0
 * @category cipher
 */
export const cipherFor = <Options extends CipherOptions>(
  options: Options | undefined
): Effect.Effect<TokenCipher.Service, never, CipherRequirement<Options>> =>
  // The conditional type cannot be narrowed by the check below; the requirement it names is exactly what is read.
  (options?.encrypted === true ? TokenCipher.TokenCipher : Effect.succeed(TokenCipher.plaintext)) as Effect.Effect<
    TokenCipher.Service,
    never,
    CipherRequirement<Options>
  >

/**
 * Runs every operation of a store in a span named `TokenStore.<operation>`, with the store's `kind`, the account
 * (never a token) and `attributes` (e.g. the database system).
 *
 * @since 0.1.0
 * @category tracing
 */
export const withSpans: (
  kind: string,
  service: Service,
  attributes?: Readonly<Record<string, string>> | undefined
) => Service = internalTracing.withSpans
