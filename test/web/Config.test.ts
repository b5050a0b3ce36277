import { AuthorizationRoutes } from "@dropbox-sign-effect/oauth"
import { describe, expect, it } from "@effect/vitest"
import type { Layer } from "effect"
import { Config, type ConfigError, ConfigProvider, Duration, Effect, Either, Redacted } from "effect"

const longKey = "0123456789abcdef0123456789abcdef"

const build = (
  layer: Layer.Layer<AuthorizationRoutes.AuthorizationRoutes, ConfigError.ConfigError>,
  env: Record<string, string>
) =>
  AuthorizationRoutes.AuthorizationRoutes.pipe(
    Effect.provide(layer),
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    Effect.either
  )

describe("AuthorizationRoutes configuration", () => {
  it.effect("layerConfig() reads DROPBOX_SIGN_COOKIE_KEY and defaults the rest", () =>
    Effect.gen(function*() {
      const settings = yield* build(AuthorizationRoutes.layerConfig(), { DROPBOX_SIGN_COOKIE_KEY: longKey })
      expect(Either.isRight(settings)).toBe(true)
      if (Either.isLeft(settings)) return
      expect(settings.right.cookieName).toBe("dropbox_sign_oauth")
      expect(Duration.toMinutes(settings.right.stateLifetime)).toBe(10)
      expect(Duration.toHours(settings.right.disconnectTokenLifetime)).toBe(1)
      expect(settings.right.secureCookie).toBeUndefined()
      // The derived key is not the configured secret, and prints as redacted.
      expect(Buffer.from(Redacted.value(settings.right.key)).toString("utf8")).not.toBe(longKey)
      expect(String(settings.right.key)).toBe("<redacted>")
    }))

  it.effect("a missing key is a ConfigError naming the variable", () =>
    Effect.gen(function*() {
      const result = yield* build(AuthorizationRoutes.layerConfig(), {})
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isRight(result)) return
      expect(result.left._op).toBe("MissingData")
      expect(String(result.left)).toContain("DROPBOX_SIGN_COOKIE_KEY")
    }))

  it.effect("a short key is a ConfigError naming the variable and its length, never the key", () =>
    Effect.gen(function*() {
      const short = "short-secret-31-bytes-long-1234"
      const result = yield* build(AuthorizationRoutes.layerConfig(), { DROPBOX_SIGN_COOKIE_KEY: short })
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isRight(result)) return
      expect(result.left._op).toBe("InvalidData")
      const message = String(result.left)
      expect(message).toContain("DROPBOX_SIGN_COOKIE_KEY")
      expect(message).toContain("at least 32 bytes")
      expect(message).toContain("(it has 31)")
      expect(message).not.toContain(short)
    }))

  it.effect("layer(options) refuses a short key, a bad cookie name and unusable lifetimes, naming the option", () =>
    Effect.gen(function*() {
      const short = yield* build(AuthorizationRoutes.layer({ cookieKey: Redacted.make("too-short") }), {})
      expect(Either.isLeft(short)).toBe(true)
      if (Either.isLeft(short)) {
        expect(short.left._op).toBe("InvalidData")
        expect(String(short.left)).toContain("cookieKey")
        expect(String(short.left)).not.toContain("too-short")
      }
      const name = yield* build(
        AuthorizationRoutes.layer({ cookieKey: Redacted.make(longKey), cookieName: "bad name;" }),
        {}
      )
      expect(Either.isLeft(name)).toBe(true)
      if (Either.isLeft(name)) {
        expect(name.left._op).toBe("InvalidData")
        expect(String(name.left)).toContain("cookieName")
      }
      for (
        const [option, value] of [["stateLifetime", Duration.infinity], [
          "disconnectTokenLifetime",
          "0 seconds"
        ]] as const
      ) {
        const refused = yield* build(
          AuthorizationRoutes.layer({ cookieKey: Redacted.make(longKey), [option]: value }),
          {}
        )
        expect(Either.isLeft(refused)).toBe(true)
        if (Either.isLeft(refused)) {
          expect(refused.left._op).toBe("InvalidData")
          expect(String(refused.left)).toContain(option)
        }
      }
    }))

  it.effect("layerConfig(config) takes any Config for each option", () =>
    Effect.gen(function*() {
      const layer = AuthorizationRoutes.layerConfig({
        cookieKey: AuthorizationRoutes.cookieKeyConfig("APP_COOKIE_KEY"),
        cookieName: Config.string("APP_COOKIE_NAME"),
        stateLifetime: Config.duration("APP_STATE_LIFETIME")
      })
      const settings = yield* build(layer, {
        APP_COOKIE_KEY: longKey,
        APP_COOKIE_NAME: "app_oauth",
        APP_STATE_LIFETIME: "5 minutes"
      })
      expect(Either.isRight(settings)).toBe(true)
      if (Either.isLeft(settings)) return
      expect(settings.right.cookieName).toBe("app_oauth")
      expect(Duration.toMinutes(settings.right.stateLifetime)).toBe(5)
      const short = yield* build(layer, { APP_COOKIE_KEY: "x", APP_COOKIE_NAME: "a", APP_STATE_LIFETIME: "1 minute" })
      expect(Either.isLeft(short)).toBe(true)
      if (Either.isLeft(short)) expect(String(short.left)).toContain("APP_COOKIE_KEY")
    }))
})
