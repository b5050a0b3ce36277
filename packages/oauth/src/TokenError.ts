/**
 * Errors of the token lifecycle: authorization callbacks, the token manager and token stores.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

import { AccountId } from "./AccountId.js"
import type { OAuthError } from "./OAuthError.js"

/**
 * The account's grant is gone (revoked, expired or invalid): the user must authorize the application again.
 *
 * @since 0.1.0
 * @category errors
 */
export class ReauthorizationRequiredError extends Schema.TaggedError<ReauthorizationRequiredError>(
  "@dropbox-sign-effect/oauth/ReauthorizationRequiredError"
)("ReauthorizationRequiredError", {
  account: AccountId,
  reason: Schema.String
}) {
  override get message(): string {
    return `Account "${this.account}" must be authorized again: ${this.reason}`
  }
}

/**
 * No token is stored for the account.
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenNotFoundError
  extends Schema.TaggedError<TokenNotFoundError>("@dropbox-sign-effect/oauth/TokenNotFoundError")(
    "TokenNotFoundError",
    { account: AccountId }
  )
{
  override get message(): string {
    return `No token is stored for account "${this.account}"; authorize it first`
  }
}

/**
 * The `state` of an authorization callback does not match the one the application issued.
 *
 * @since 0.1.0
 * @category errors
 */
export class StateMismatchError
  extends Schema.TaggedError<StateMismatchError>("@dropbox-sign-effect/oauth/StateMismatchError")(
    "StateMismatchError",
    {}
  )
{
  override get message(): string {
    return "The callback's state does not match the state this application issued; the callback was refused"
  }
}

/**
 * The user (or Dropbox Sign) refused the authorization: the callback carries `error` instead of `code`.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthorizationDeniedError
  extends Schema.TaggedError<AuthorizationDeniedError>("@dropbox-sign-effect/oauth/AuthorizationDeniedError")(
    "AuthorizationDeniedError",
    {
      error: Schema.String,
      errorDescription: Schema.optional(Schema.String)
    }
  )
{
  override get message(): string {
    const description = this.errorDescription === undefined ? "" : `: ${this.errorDescription}`
    return `Authorization was denied (${this.error})${description}`
  }
}

/**
 * The callback URL is not an authorization callback: it lacks `code` or `state`, or cannot be parsed.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidCallbackError
  extends Schema.TaggedError<InvalidCallbackError>("@dropbox-sign-effect/oauth/InvalidCallbackError")(
    "InvalidCallbackError",
    { reason: Schema.String }
  )
{
  override get message(): string {
    return `Invalid authorization callback: ${this.reason}`
  }
}

/**
 * A compare-and-set write lost: the stored token changed since it was read.
 *
 * @since 0.1.0
 * @category errors
 */
export class StaleTokenError
  extends Schema.TaggedError<StaleTokenError>("@dropbox-sign-effect/oauth/StaleTokenError")("StaleTokenError", {
    account: AccountId,
    expectedVersion: Schema.NullOr(Schema.Number),
    actualVersion: Schema.NullOr(Schema.Number)
  })
{
  override get message(): string {
    return `The stored token of account "${this.account}" changed (expected version ${this.expectedVersion}, found ${this.actualVersion})`
  }
}

/**
 * What a store was doing when it failed: opening or configuring itself, one of its operations (`get`, `set`,
 * `delete`, `list`, `lock`), migrating its schema, or turning an entry into stored text and back (`encode`, `decode`,
 * `encrypt`, `decrypt`).
 *
 * @since 0.1.0
 * @category models
 */
export const StoreOperation = Schema.Literal(
  "open",
  "configure",
  "migrate",
  "get",
  "set",
  "delete",
  "list",
  "lock",
  "encode",
  "decode",
  "encrypt",
  "decrypt"
)

/**
 * @since 0.1.0
 * @category models
 */
export type StoreOperation = typeof StoreOperation.Type

/**
 * The token store failed: unreachable, corrupt entry, unknown format, failed decryption, lock timeout.
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenStoreError
  extends Schema.TaggedError<TokenStoreError>("@dropbox-sign-effect/oauth/TokenStoreError")("TokenStoreError", {
    operation: StoreOperation,
    account: Schema.optional(AccountId),
    reason: Schema.String
  })
{
  override get message(): string {
    const account = this.account === undefined ? "" : ` for account "${this.account}"`
    return `Token store ${this.operation} failed${account}: ${this.reason}`
  }
}

/**
 * Errors of an authorization callback.
 *
 * @since 0.1.0
 * @category errors
 */
export type CallbackError = StateMismatchError | AuthorizationDeniedError | InvalidCallbackError

/**
 * Every error the token lifecycle can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type TokenError =
  | OAuthError
  | CallbackError
  | ReauthorizationRequiredError
  | TokenNotFoundError
  | StaleTokenError
  | TokenStoreError
