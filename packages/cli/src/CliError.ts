/**
 * The one error a command fails with: a single line naming the cause and the fix. Every expected failure of the
 * library, the configuration and the platform is translated here, so that no stack trace reaches the user.
 *
 * @since 0.1.0
 */
import type { TokenError } from "@dropbox-sign-effect/oauth"
import { AccountId, OAuthConfig, TokenCipher } from "@dropbox-sign-effect/oauth"
import type { HttpClientError, HttpServerError } from "@effect/platform"
import type { ParseResult } from "effect"
import type { ConfigError } from "effect"
import { Schema } from "effect"

/**
 * @since 0.1.0
 * @category errors
 */
export class CliError extends Schema.TaggedError<CliError>("@dropbox-sign-effect/cli/CliError")("CliError", {
  message: Schema.String
}) {}

/**
 * The flag that stands in for each environment variable, for hints.
 *
 * @since 0.1.0
 * @category constants
 */
export const flagOf: Readonly<Record<string, string>> = {
  [OAuthConfig.env.clientId]: "--client-id",
  [OAuthConfig.env.clientSecret]: "--client-secret",
  [OAuthConfig.env.oauthUrl]: "--oauth-url",
  [OAuthConfig.env.apiUrl]: "--api-url"
}

/**
 * `dropbox-sign-oauth authorize` with the account flag when the account is not the default one.
 *
 * @since 0.1.0
 * @category formatting
 */
export const authorizeHint = (account: string): string =>
  `run \`dropbox-sign-oauth authorize${account === AccountId.defaultAccount ? "" : ` --account ${account}`}\``

const leafOf = (error: ConfigError.ConfigError): ConfigError.ConfigError =>
  error._op === "And" || error._op === "Or" ? leafOf(error.left) : error

/**
 * A configuration error as `Invalid NAME: reason: fix it or pass --flag`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromConfigError = (error: ConfigError.ConfigError): CliError => {
  const leaf = leafOf(error)
  if (leaf._op === "MissingData" || leaf._op === "InvalidData") {
    const name = leaf.path.join("_")
    const flag = flagOf[name]
    const fix = name === TokenCipher.defaultConfigName ?
      "set it to 32 random bytes as hex or base64, or unset it to store tokens unencrypted" :
      flag === undefined
      ? "fix the variable"
      : `fix it or pass ${flag}`
    const what = leaf._op === "MissingData" ? "Missing" : "Invalid"
    return new CliError({ message: `${what} ${name === "" ? "configuration" : name}: ${leaf.message}: ${fix}` })
  }
  return new CliError({ message: `Configuration unavailable: ${leaf.message}` })
}

const oauthHint = (error: Extract<TokenError.TokenError, { readonly _tag: "OAuthApiError" }>, account: string) => {
  if (
    error.errorName === "invalid_client" || error.errorPath === "client_id" || error.errorPath === "client_secret"
  ) {
    return `check ${OAuthConfig.env.clientId} and ${OAuthConfig.env.clientSecret} (or --client-id, --client-secret)`
  }
  return error.isTerminal ? authorizeHint(account) : "try again later"
}

/**
 * A library error, with the fix the user can apply. `account` names the account in hints.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromTokenError = (error: TokenError.TokenError, account: string): CliError => {
  const message = (() => {
    switch (error._tag) {
      case "TokenNotFoundError":
        return `${error.message.replace(/; authorize it first$/, "")}: ${authorizeHint(account)} first`
      case "ReauthorizationRequiredError":
        return `${error.message}: ${authorizeHint(account)}`
      case "StateMismatchError":
      case "AuthorizationDeniedError":
      case "InvalidCallbackError":
        return `${error.message}; nothing was stored: ${authorizeHint(account)} again`
      case "StaleTokenError":
        return `${error.message}; another process wrote it meanwhile: try again`
      case "TokenStoreError":
        return error.reason.includes("encrypt") || error.reason.includes("decrypt") ?
          `${error.message}: check ${TokenCipher.defaultConfigName}` :
          `${error.message}: check --store-dir or DROPBOX_SIGN_TOKEN_DIR`
      case "OAuthApiError":
        return `${error.message}: ${oauthHint(error, account)}`
      case "RateLimitedError":
        return error.message
      case "ServerError":
        return `${error.message}: try again later`
      case "TransportError":
        return `${error.message}: check ${OAuthConfig.env.oauthUrl} (or --oauth-url) and the network`
      case "ResponseDecodeError":
        return `${error.message}: check ${OAuthConfig.env.oauthUrl} (or --oauth-url)`
    }
  })()
  return new CliError({ message })
}

/**
 * A failed request to the Dropbox Sign API (`GET /account`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromHttpClientError = (error: HttpClientError.HttpClientError, apiUrl: string): CliError => {
  const target = `${error.request.method} ${error.request.url}`
  if (error._tag === "RequestError") {
    return new CliError({
      message: `${target} failed (${error.reason}): check ${OAuthConfig.env.apiUrl} (or --api-url, now ${apiUrl}) ` +
        "and the network"
    })
  }
  if (error.reason === "StatusCode") {
    return new CliError({ message: `${target} answered ${error.response.status}: ${error.description ?? "failed"}` })
  }
  return new CliError({ message: `${target} answered with an unreadable body: ${error.description ?? error.reason}` })
}

/**
 * A response body that does not have the expected shape.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromParseError = (what: string, _error: ParseResult.ParseError): CliError =>
  // The parse error would quote the body, which may contain personal data: name the endpoint only.
  new CliError({ message: `Unexpected response from ${what}: check ${OAuthConfig.env.apiUrl} (or --api-url)` })

/**
 * A loopback server that could not listen (`--port` in use or not allowed).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromServeError = (error: HttpServerError.ServeError, port: number, flag = "--port"): CliError => {
  const code = typeof error.cause === "object" && error.cause !== null && "code" in error.cause ?
    String(error.cause.code) :
    ""
  if (code === "EADDRINUSE") {
    return new CliError({
      message: `Port ${port} on 127.0.0.1 is already in use: stop the other process or pass ${flag} with a free port`
    })
  }
  if (code === "EACCES") {
    return new CliError({ message: `Not allowed to listen on port ${port}: pass ${flag} with a port above 1023` })
  }
  return new CliError({ message: `Cannot listen on 127.0.0.1:${port} (${code || "unknown error"}): pass ${flag}` })
}
