/**
 * Wire shapes of the Dropbox Sign OAuth token endpoint: camelCase fields mapped to the snake_case keys on the wire.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

// An access or refresh token: RFC 6749's `VSCHAR` (printable ASCII) without the space. A token with a control
// character, a space or a line break would break the `Authorization` header of every call made with it.
const TokenValue = Schema.String.pipe(
  Schema.pattern(/^[\x21-\x7E]+$/, {
    identifier: "TokenValue",
    description: "printable ASCII without spaces or control characters"
  })
)

// RFC 6749 makes the token type case-insensitive; any type but bearer would not fit the header the library sends.
const BearerTokenType = Schema.String.pipe(
  Schema.filter((type) => type.toLowerCase() === "bearer", {
    identifier: "BearerTokenType",
    description: "\"Bearer\", in any case",
    arbitrary: () => (fc) => fc.constantFrom("Bearer", "bearer", "BEARER", "bEaReR")
  })
)

// Whole positive seconds (a safe integer).
const ExpiresInSeconds = Schema.Int.pipe(Schema.positive({ identifier: "ExpiresInSeconds" }))

const Token = Schema.Redacted(TokenValue)

/**
 * Body of `POST /oauth/token`: exchanges an authorization code for tokens.
 *
 * @since 0.1.0
 * @category wire
 */
export class OAuthTokenGenerateRequest extends Schema.Class<OAuthTokenGenerateRequest>("OAuthTokenGenerateRequest")({
  // The field order is the wire's key order, the official SDK's: client_id, client_secret, code, grant_type, state.
  clientId: Schema.propertySignature(Schema.String).pipe(Schema.fromKey("client_id")),
  clientSecret: Schema.propertySignature(Schema.Redacted(Schema.String)).pipe(Schema.fromKey("client_secret")),
  code: Schema.Redacted(Schema.String),
  grantType: Schema.propertySignature(Schema.Literal("authorization_code")).pipe(
    Schema.withConstructorDefault(() => "authorization_code" as const),
    Schema.fromKey("grant_type")
  ),
  state: Schema.String
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
 * token needs and tolerates unknown extra fields: an access token that fits a header (`TokenValue`), a lifetime in
 * whole positive seconds, a bearer `token_type` (assumed when absent). `refresh_token` may be absent on refresh, in
 * which case the previous one stays valid. How short a lifetime is still usable is a policy of `OAuthApi`
 * (`OAuthConfig.minTokenLifetime`), not of the wire.
 *
 * @since 0.1.0
 * @category wire
 */
export class OAuthTokenResponse extends Schema.Class<OAuthTokenResponse>("OAuthTokenResponse")({
  accessToken: Schema.propertySignature(Token).pipe(Schema.fromKey("access_token")),
  tokenType: Schema.optionalWith(BearerTokenType, { default: () => "Bearer" }).pipe(Schema.fromKey("token_type")),
  refreshToken: Schema.optional(Token).pipe(Schema.fromKey("refresh_token")),
  expiresIn: Schema.propertySignature(ExpiresInSeconds).pipe(Schema.fromKey("expires_in")),
  state: Schema.optional(Schema.NullOr(Schema.String))
}) {}

/**
 * The inner object of Dropbox Sign's own error body, `{"error_msg", "error_name", "error_path"?}`: a wire shape, not an
 * error of this library (the official SDK calls it `ErrorResponseError`; `OAuthApiError` is what callers receive).
 *
 * @since 0.1.0
 * @category wire
 */
export class ErrorResponseDetail extends Schema.Class<ErrorResponseDetail>("ErrorResponseDetail")({
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
  error: ErrorResponseDetail
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
