import { Effect, Either, Option, ParseResult, Schema } from "effect"

import { AccountId } from "../AccountId.js"
import { OAuthToken } from "../OAuthToken.js"
import type * as TokenCipher from "../TokenCipher.js"
import { type StoreOperation, TokenStoreError } from "../TokenError.js"
import type { StoredToken } from "../TokenStore.js"

/**
 * Defined here rather than in `TokenStore.ts` (which re-exports it) so that this module never imports
 * `TokenStore.ts` at runtime: that module imports this one.
 *
 * @internal
 */
export const AccountStatus = Schema.Literal("active", "reauthorization_required")

/** @internal */
export const currentFormat = 1

/**
 * Format 1 of a stored entry. The account is part of the entry so that an entry copied under another key (or a file
 * renamed) is detected instead of handing one account's token to another.
 *
 * @internal
 */
export const EntryV1 = Schema.Struct({
  format: Schema.Literal(currentFormat),
  account: AccountId,
  version: Schema.Int.pipe(Schema.positive()),
  status: AccountStatus,
  statusReason: Schema.optional(Schema.String),
  updatedAt: Schema.DateTimeUtc,
  token: OAuthToken
})

const encodeJson = Schema.encode(Schema.parseJson(EntryV1))
const parseJson = Schema.decodeUnknownEither(Schema.parseJson())
const decodeFormat = Schema.decodeUnknownEither(Schema.Struct({ format: Schema.Unknown }))
const decodeV1 = Schema.decodeUnknownEither(EntryV1)

// Only the paths of the failing fields: parse messages quote the actual values, which may be secrets.
const failingPaths = (error: ParseResult.ParseError): string => {
  const paths = ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) =>
    issue.path.length === 0 ? "(root)" : issue.path.map(String).join(".")
  )
  return Array.from(new Set(paths)).join(", ")
}

const fail = (operation: StoreOperation, account: AccountId | undefined, reason: string) =>
  new TokenStoreError(account === undefined ? { operation, reason } : { operation, account, reason })

/** @internal */
export const encode = (entry: StoredToken, cipher: TokenCipher.Service): Effect.Effect<string, TokenStoreError> =>
  encodeJson({
    format: currentFormat,
    account: entry.account,
    version: entry.version,
    status: entry.status,
    ...(entry.statusReason === undefined ? {} : { statusReason: entry.statusReason }),
    updatedAt: entry.updatedAt,
    token: entry.token
  }).pipe(
    Effect.mapError((error) =>
      fail("encode", entry.account, `the entry cannot be encoded (at ${failingPaths(error)})`)
    ),
    Effect.flatMap(cipher.encrypt),
    Effect.mapError((error) => fail("encode", entry.account, error.reason))
  )

/**
 * Decodes an entry without knowing its account in advance (listing a directory); `expected`, when given, must match.
 *
 * @internal
 */
export const decode = (
  text: string,
  cipher: TokenCipher.Service,
  expected?: AccountId | undefined
): Effect.Effect<StoredToken, TokenStoreError> =>
  Effect.flatMap(
    Effect.mapError(cipher.decrypt(text), (error) => fail("decode", expected, error.reason)),
    (plaintext) => {
      const json = parseJson(plaintext)
      if (Either.isLeft(json)) {
        // The JSON parser's message quotes the input: say only that it is not JSON.
        return Effect.fail(fail("decode", expected, "the entry is corrupt: it is not valid JSON"))
      }
      const format = decodeFormat(json.right)
      if (Either.isLeft(format)) {
        return Effect.fail(fail("decode", expected, "the entry is corrupt: it is not an object with a format field"))
      }
      if (format.right.format !== currentFormat) {
        const found = typeof format.right.format === "number" ? String(format.right.format) : "of an unknown kind"
        return Effect.fail(
          fail(
            "decode",
            expected,
            `the entry has format ${found}, which this version cannot read (it reads format ${currentFormat}); ` +
              "was it written by a newer version?"
          )
        )
      }
      const entry = decodeV1(json.right)
      if (Either.isLeft(entry)) {
        return Effect.fail(
          fail(
            "decode",
            expected,
            `the entry is corrupt: it does not match format ${currentFormat} (at ${failingPaths(entry.left)})`
          )
        )
      }
      if (expected !== undefined && entry.right.account !== expected) {
        return Effect.fail(fail("decode", expected, "the entry belongs to another account"))
      }
      const { account, status, statusReason, token, updatedAt, version } = entry.right
      return Effect.succeed<StoredToken>({ account, token, version, status, statusReason, updatedAt })
    }
  )

/** @internal */
export const decodeOption = (
  text: Option.Option<string>,
  cipher: TokenCipher.Service,
  expected: AccountId
): Effect.Effect<Option.Option<StoredToken>, TokenStoreError> =>
  Option.match(text, {
    onNone: () => Effect.succeedNone,
    onSome: (text) => Effect.asSome(decode(text, cipher, expected))
  })
