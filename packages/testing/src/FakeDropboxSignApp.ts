/**
 * The apps and accounts a fake Dropbox Sign knows: the options to register them, their resolved forms, the defaults
 * every fake starts with, and the grants (authorizations of an app by an account) they make. Every export is reached as
 * `FakeDropboxSign.X` from `@dropbox-sign-effect/testing`.
 *
 * @since 0.1.0
 */
import { Duration, Redacted } from "effect"

import type * as Reply from "./internal/reply.js"

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

/**
 * The shape of OAuth error bodies: Dropbox Sign's `{"error": {"error_msg", "error_name", "error_path"}}` or
 * RFC 6749's `{"error": "<code>", "error_description"}`.
 *
 * @since 0.1.0
 * @category models
 */
export type ErrorShape = Reply.ErrorShape

/**
 * How the signed-in account answers `GET /oauth/authorize`:
 *
 * - `"allow"`: at once, with a redirect to the callback URL carrying `code` and `state`.
 * - `"deny"`: at once, with a redirect carrying `error=access_denied` and `state`.
 * - `"page"`: with an HTML consent screen (200, `text/html; charset=utf-8`) that shows the app's `name` and the
 *   account's email address, and a form posting to `/oauth/authorize` with hidden `client_id`, `state` and a one-time
 *   `consent_id`, and two buttons, `decision=allow` ("Authorize") and `decision=deny` ("Deny"). The `POST` answers
 *   with the same redirects as the automatic modes; a form whose consent id is unknown, already answered or does not
 *   match its `client_id` and `state` gets a 4xx HTML error page and changes nothing.
 *
 * `denyNextConsent` denies at once in every mode, before any page is shown.
 *
 * @example
 * ```ts
 * import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
 *
 * // A browser test: the fake on loopback shows a consent page for its default app.
 * const fake = FakeDropboxSign.layerServer({ defaultApp: { consent: "page", name: "Acme Contracts" } })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Consent = "allow" | "deny" | "page"

/**
 * Options for a registered API app; every field has a default (see `defaultApp`; a new app gets a random client id
 * and secret).
 *
 * @since 0.1.0
 * @category models
 */
export interface AppOptions {
  readonly clientId?: string | undefined
  /** The app's display name, shown on the consent page. */
  readonly name?: string | undefined
  readonly clientSecret?: string | Redacted.Redacted<string> | undefined
  /** Where `/oauth/authorize` redirects to; a query it has is kept. */
  readonly callbackUrl?: string | undefined
  readonly accessTokenTtl?: Duration.DurationInput | undefined
  /** Refresh tokens never expire unless this is set. */
  readonly refreshTokenTtl?: Duration.DurationInput | undefined
  readonly codeTtl?: Duration.DurationInput | undefined
  /** When on, each refresh issues a new refresh token and the old one is rejected from then on. */
  readonly rotateRefreshTokens?: boolean | undefined
  /** When on, a refresh without `client_id` and `client_secret` is rejected (new API apps behave so). */
  readonly requireClientCredentialsOnRefresh?: boolean | undefined
  readonly errorShape?: ErrorShape | undefined
  /** How consent is answered (default `"allow"`); `denyNextConsent` denies one authorization regardless. */
  readonly consent?: Consent | undefined
}

/**
 * A registered API app, every option resolved.
 *
 * @since 0.1.0
 * @category models
 */
export interface FakeApp {
  readonly clientId: string
  readonly name: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly callbackUrl: string
  readonly accessTokenTtl: Duration.Duration
  readonly refreshTokenTtl: Duration.Duration | undefined
  readonly codeTtl: Duration.Duration
  readonly rotateRefreshTokens: boolean
  readonly requireClientCredentialsOnRefresh: boolean
  readonly errorShape: ErrorShape
  readonly consent: Consent
}

/**
 * Options for `updateApp`: every option but the client id.
 *
 * @since 0.1.0
 * @category models
 */
export type AppUpdate = Omit<AppOptions, "clientId">

/**
 * Options for a registered account.
 *
 * @since 0.1.0
 * @category models
 */
export interface AccountOptions {
  readonly accountId?: string | undefined
  readonly emailAddress?: string | undefined
  readonly name?: string | undefined
}

/**
 * A Dropbox Sign account that can authorize apps.
 *
 * @since 0.1.0
 * @category models
 */
export interface FakeAccount {
  readonly accountId: string
  readonly emailAddress: string
  readonly name: string | undefined
}

/**
 * A grant (one authorization of an app by an account) as `grants` shows it: the refresh token the fake accepts for
 * it now (with rotation, the latest one issued), `Redacted` like every credential the fake hands out.
 *
 * @since 0.1.0
 * @category models
 */
export interface GrantInfo {
  /** Opaque and stable for the grant's life; not a credential. */
  readonly grantId: string
  readonly clientId: string
  readonly accountId: string
  readonly refreshToken: Redacted.Redacted<string>
  readonly revoked: boolean
}

// -----------------------------------------------------------------------------
// defaults
// -----------------------------------------------------------------------------

/**
 * The app every fake registers at start, with the official fixture credentials.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultApp: FakeApp = {
  clientId: "cc91c61d00f8bb2ece1428035716b",
  name: "Dropbox Sign Test App",
  clientSecret: Redacted.make("1d14434088507ffa390e6f5528465"),
  callbackUrl: "http://127.0.0.1/callback",
  accessTokenTtl: Duration.hours(1),
  refreshTokenTtl: undefined,
  codeTtl: Duration.minutes(10),
  rotateRefreshTokens: false,
  requireClientCredentialsOnRefresh: true,
  errorShape: "dropbox",
  consent: "allow"
}

/**
 * The account that consents in the browser step unless `signIn` picks another.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultAccount: FakeAccount = {
  accountId: "fa5c8a0b0f492d768749333ad6fcc214c111e967",
  emailAddress: "jack@example.com",
  name: "Jack"
}
