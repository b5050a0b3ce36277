/**
 * The routes' configuration: the cookie key (long enough, never shown), the cookie name, the lifetimes.
 */
import { Config, ConfigError, Duration, Effect, Either, Option, type Redacted } from "effect"

import type { Options, Service } from "../AuthorizationRoutes.js"
import { checkKey, deriveKey } from "./authorizationSeal.js"

export { minimumKeyBytes } from "./authorizationSeal.js"

export const defaultStateLifetime: Duration.Duration = Duration.minutes(10)

export const defaultCookieName = "dropbox_sign_oauth"

const cookieNamePattern = /^[A-Za-z0-9_-]{1,64}$/

const lifetime = (name: string, input: Duration.DurationInput) => {
  const duration = Duration.decode(input)
  // A cookie's Max-Age must be a whole, finite number of seconds.
  return Duration.isFinite(duration) && Duration.toSeconds(duration) >= 1 ?
    Either.right(duration) :
    Either.left(ConfigError.InvalidData([name], "must be a finite duration of at least 1 second"))
}

/** See `AuthorizationRoutes.make`. */
export const make = (options: Options): Effect.Effect<Service, ConfigError.ConfigError> =>
  Effect.gen(function*() {
    const refused = checkKey(options.cookieKey)
    if (Option.isSome(refused)) return yield* Effect.fail(ConfigError.InvalidData(["cookieKey"], refused.value))
    const cookieName = options.cookieName ?? defaultCookieName
    if (!cookieNamePattern.test(cookieName)) {
      return yield* Effect.fail(
        ConfigError.InvalidData(["cookieName"], "must be a cookie token (letters, digits, _ and -)")
      )
    }
    const stateLifetime = yield* lifetime("stateLifetime", options.stateLifetime ?? defaultStateLifetime)
    const disconnectTokenLifetime = yield* lifetime(
      "disconnectTokenLifetime",
      options.disconnectTokenLifetime ?? Duration.hours(1)
    )
    return {
      key: deriveKey(options.cookieKey),
      cookieName,
      stateLifetime,
      secureCookie: options.secureCookie,
      disconnectTokenLifetime
    }
  })

/** See `AuthorizationRoutes.cookieKeyConfig`. */
export const cookieKeyConfig = (name: string): Config.Config<Redacted.Redacted<string>> =>
  // Nested outside `mapOrFail` so that the error names the variable.
  Config.nested(
    Config.mapOrFail(Config.redacted(), (key) =>
      Option.match(checkKey(key), {
        onNone: () => Either.right(key),
        onSome: (reason) => Either.left(ConfigError.InvalidData([], reason))
      })),
    name
  )
