/**
 * Wire shapes of the Dropbox Sign OAuth token endpoint: camelCase fields mapped to the snake_case keys on the wire.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

const NonEmptySecret = Schema.Redacted(Schema.NonEmptyString)

/**
 * Body of `POST /oauth/token`: exchanges an authorization code for tokens.
 *
 * @since 0.1.0
 * @category wire
 */
export class OAuthTokenGenerateRequest extends Schema.Class<OAuthTokenGenerateRequest>("OAuthTokenGenerateRequest")({
  clientId: Schema.propertySignature(Schema.String).pipe(Schema.fromKey("client_id")),
  clientSecret: Schema.propertySignature(Schema.Redacted(Schema.String)).pipe(Schema.fromKey("client_secret")),
  code: Schema.Redacted(Schema.String),
  state: Schema.String,
  grantType: Schema.propertySignature(Schema.Literal("authorization_code")).pipe(
    Schema.withConstructorDefault(() => "authorization_code" as const),
    Schema.fromKey("grant_type")
  )
}) {}

/**
 * Body of `POST /oauth/token?refresh`: trades a refresh token for a new access token. The client credentials are
 * optional on the wire but required for newer API apps, so `OAuthClient` sends them unless told not to.
 *
 * @since 0.1.0
 * @category wire
 */
export class OAuthTokenRefreshRequest extends Schema.Class<OAuthTokenRefreshRequest>("OAuthTokenRefreshRequest")({
  grantType: Schema.propertySignature(Schema.Literal("refresh_token")).pipe(
    Schema.withConstructorDefault(() => "refresh_token" as const),
    Schema.fromKey("grant_type")
  ),
  refreshToken: Schema.propertySignature(Schema.Redacted(Schema.String)).pipe(Schema.fromKey("refresh_token")),
  clientId: Schema.optional(Schema.String).pipe(Schema.fromKey("client_id")),
  clientSecret: Schema.optional(Schema.Redacted(Schema.String)).pipe(Schema.fromKey("client_secret"))
}) {}

/**
 * A successful token response. The published spec marks every field optional; this decodes strictly what a usable
 * token needs (a non-empty access token and a positive lifetime) and tolerates unknown extra fields.
 * `refresh_token` may be absent on refresh, in which case the previous one stays valid.
 *
 * @since 0.1.0
 * @category wire
 */
export class OAuthTokenResponse extends Schema.Class<OAuthTokenResponse>("OAuthTokenResponse")({
  accessToken: Schema.propertySignature(NonEmptySecret).pipe(Schema.fromKey("access_token")),
  tokenType: Schema.optionalWith(Schema.NonEmptyString, { default: () => "Bearer" }).pipe(
    Schema.fromKey("token_type")
  ),
  refreshToken: Schema.optional(NonEmptySecret).pipe(Schema.fromKey("refresh_token")),
  expiresIn: Schema.propertySignature(Schema.Number.pipe(Schema.finite(), Schema.positive())).pipe(
    Schema.fromKey("expires_in")
  ),
  state: Schema.optional(Schema.NullOr(Schema.String))
}) {}

/**
 * The inner object of Dropbox Sign's own error shape.
 *
 * @since 0.1.0
 * @category wire
 */
export class ErrorResponseError extends Schema.Class<ErrorResponseError>("ErrorResponseError")({
  errorMsg: Schema.propertySignature(Schema.String).pipe(Schema.fromKey("error_msg")),
  errorName: Schema.propertySignature(Schema.String).pipe(Schema.fromKey("error_name")),
  errorPath: Schema.optional(Schema.String).pipe(Schema.fromKey("error_path"))
}) {}

/**
 * Dropbox Sign's error body: `{"error": {"error_msg", "error_name", "error_path"?}}`.
 *
 * @since 0.1.0
 * @category wire
 */
export class ErrorResponse extends Schema.Class<ErrorResponse>("ErrorResponse")({
  error: ErrorResponseError
}) {}

/**
 * The RFC 6749 error body some deployments of the token endpoint answer with:
 * `{"error": "<code>", "error_description": "..."}`.
 *
 * @since 0.1.0
 * @category wire
 */
export class Rfc6749ErrorResponse extends Schema.Class<Rfc6749ErrorResponse>("Rfc6749ErrorResponse")({
  error: Schema.String,
  errorDescription: Schema.optional(Schema.String).pipe(Schema.fromKey("error_description")),
  errorUri: Schema.optional(Schema.String).pipe(Schema.fromKey("error_uri"))
}) {}

/**
 * Either error shape.
 *
 * @since 0.1.0
 * @category wire
 */
export const AnyErrorResponse = Schema.Union(ErrorResponse, Rfc6749ErrorResponse)

/**
 * @since 0.1.0
 * @category wire
 */
export type AnyErrorResponse = typeof AnyErrorResponse.Type
