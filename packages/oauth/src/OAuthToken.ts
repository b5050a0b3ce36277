/**
 * The domain token: what an application keeps per account. Encodable with Schema for storage.
 *
 * @since 0.1.0
 */
import { DateTime, Duration, Option, Redacted, Schema } from "effect"

import type { OAuthTokenResponse } from "./OAuthSchema.js"

/**
 * An access token with the refresh token that renews it and the instants, read from `Clock`, that bound its life.
 *
 * @since 0.1.0
 * @category models
 */
export class OAuthToken extends Schema.Class<OAuthToken>("OAuthToken")({
  accessToken: Schema.Redacted(Schema.NonEmptyString),
  refreshToken: Schema.Redacted(Schema.NonEmptyString),
  tokenType: Schema.String,
  issuedAt: Schema.DateTimeUtc,
  expiresAt: Schema.DateTimeUtc
}) {
  /**
   * The token's whole lifetime, as issued.
   *
   * @since 0.1.0
   */
  get lifetime(): Duration.Duration {
    return Duration.millis(Math.max(0, DateTime.distance(this.issuedAt, this.expiresAt)))
  }

  /**
   * Time left at `now`; zero once expired.
   *
   * @since 0.1.0
   */
  remaining(now: DateTime.Utc): Duration.Duration {
    return Duration.millis(Math.max(0, DateTime.distance(now, this.expiresAt)))
  }

  /**
   * Whether the access token can no longer be used at `now`.
   *
   * @since 0.1.0
   */
  isExpired(now: DateTime.Utc): boolean {
    return !DateTime.lessThan(now, this.expiresAt)
  }
}

/**
 * The longest lifetime a token is given, whatever `expires_in` says. No access token lives that long: a larger value is
 * a server bug or a hostile answer, and beyond about 275,000 years the expiry is not even a valid date (encoding the
 * token for a store would throw). Capping it only makes the manager refresh earlier than it had to.
 */
const maxLifetime = Duration.days(3650)

/**
 * Builds a token from a token response at `now`. A response without `refresh_token` keeps `previousRefreshToken`
 * (refresh-token rotation is undocumented: never assume either way). `None` when there is neither. A lifetime beyond
 * ten years is taken as ten years.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromResponse = (
  response: OAuthTokenResponse,
  now: DateTime.Utc,
  previousRefreshToken?: Redacted.Redacted<string> | undefined
): Option.Option<OAuthToken> => {
  const refreshToken = response.refreshToken ?? previousRefreshToken
  if (refreshToken === undefined) return Option.none()
  return Option.some(
    new OAuthToken({
      accessToken: response.accessToken,
      refreshToken,
      tokenType: response.tokenType,
      issuedAt: now,
      expiresAt: DateTime.addDuration(now, Duration.min(Duration.seconds(response.expiresIn), maxLifetime))
    })
  )
}

/**
 * Whether two tokens carry the same secrets (compared without exposing them anywhere).
 *
 * @since 0.1.0
 * @category utils
 */
export const sameSecrets = (self: OAuthToken, that: OAuthToken): boolean =>
  Redacted.value(self.accessToken) === Redacted.value(that.accessToken) &&
  Redacted.value(self.refreshToken) === Redacted.value(that.refreshToken)
