import type { AccountId, TokenError } from "@dropbox-sign-effect/oauth"
import { DropboxSignHttpClient, OAuthConfig } from "@dropbox-sign-effect/oauth"
import type { HttpClientError } from "@effect/platform"
import { HttpClient } from "@effect/platform"
import type { ParseResult } from "effect"
import { Effect, Schema } from "effect"

import type { CliError } from "../CliError.js"
import { fromHttpClientError, fromParseError, fromTokenError } from "../CliError.js"

/**
 * The part of `GET /account` the CLI shows.
 *
 * @internal
 */
export const AccountResponse = Schema.Struct({
  account: Schema.Struct({
    account_id: Schema.String,
    email_address: Schema.String
  })
})

/**
 * @internal
 */
export interface AccountInfo {
  readonly accountId: string
  readonly emailAddress: string
  /** The whole response body, for `account --json`. */
  readonly body: unknown
}

/**
 * `GET /account` as `account`, with the bearer token from the manager (refreshed once on a 401), failing with the
 * library's errors as they are.
 *
 * @internal
 */
export const fetchAccountRaw = (
  account: AccountId.AccountId
): Effect.Effect<
  AccountInfo,
  HttpClientError.HttpClientError | TokenError.TokenError | ParseResult.ParseError,
  DropboxSignHttpClient.DropboxSignHttpClient
> =>
  Effect.gen(function*() {
    const http = yield* DropboxSignHttpClient.DropboxSignHttpClient
    const response = yield* HttpClient.filterStatusOk(http.forAccount(account)).get("/account")
    const body = yield* response.json
    const decoded = yield* Schema.decodeUnknown(AccountResponse)(body)
    return { accountId: decoded.account.account_id, emailAddress: decoded.account.email_address, body }
  }).pipe(Effect.scoped)

/**
 * `fetchAccountRaw` with errors as one-line `CliError`s.
 *
 * @internal
 */
export const fetchAccount = (
  account: AccountId.AccountId
): Effect.Effect<AccountInfo, CliError, DropboxSignHttpClient.DropboxSignHttpClient | OAuthConfig.OAuthConfig> =>
  Effect.gen(function*() {
    const config = yield* OAuthConfig.OAuthConfig
    return yield* fetchAccountRaw(account).pipe(
      Effect.mapError((error) =>
        error._tag === "RequestError" || error._tag === "ResponseError" ?
          fromHttpClientError(error, config.apiUrl) :
          error._tag === "ParseError" ?
          fromParseError("GET /account", error) :
          fromTokenError(error, account)
      )
    )
  })
