/** Defaults of the token transport that both `OAuthConfig` and `OAuthApi` refer to. */
import { Duration } from "effect"

/** This package's version: kept equal to `package.json`'s by a test. */
export const version = "0.1.0"

/** Requests identify themselves, as the official SDK's do. */
export const defaultUserAgent = `dropbox-sign-effect/${version}`

/** 64 KiB: a token answer is under 2 KB, and an error page rarely needs more to be recognised. */
export const defaultMaxResponseBytes = 65_536

/** A token answer's shortest usable lifetime by default. */
export const defaultMinTokenLifetime = Duration.seconds(60)
