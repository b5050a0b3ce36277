import { OAuthConfig } from "@dropbox-sign-effect/oauth"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Layer, Redacted } from "effect"

const fromMap = (entries: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(entries))))

const read = OAuthConfig.OAuthConfig.pipe(Effect.provide(OAuthConfig.layerConfig()))

describe("OAuthConfig", () => {
  it.effect("reads the DROPBOX_SIGN_* names with defaults", () =>
    Effect.gen(function*() {
      const config = yield* read.pipe(fromMap({ DROPBOX_SIGN_CLIENT_ID: "id", DROPBOX_SIGN_CLIENT_SECRET: "secret" }))
      expect(config.clientId).toBe("id")
      expect(Redacted.value(config.clientSecret)).toBe("secret")
      expect(config.oauthUrl).toBe("https://app.hellosign.com")
      expect(config.apiUrl).toBe("https://api.hellosign.com/v3")
      expect(config.sendClientCredentialsOnRefresh).toBe(true)
      expect(Duration.toSeconds(config.requestTimeout)).toBe(10)
      expect(config.refreshWindow.ratio).toBe(0.1)
      expect(Duration.toMinutes(config.refreshWindow.max)).toBe(5)
    }))

  it.effect("a missing client id names DROPBOX_SIGN_CLIENT_ID", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(read.pipe(fromMap({ DROPBOX_SIGN_CLIENT_SECRET: "secret" })))
      expect(String(error)).toContain("DROPBOX_SIGN_CLIENT_ID")
    }))

  it.effect("a missing client secret names DROPBOX_SIGN_CLIENT_SECRET", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(read.pipe(fromMap({ DROPBOX_SIGN_CLIENT_ID: "id" })))
      expect(String(error)).toContain("DROPBOX_SIGN_CLIENT_SECRET")
    }))

  it.effect("http:// on a non-loopback host is refused, naming the variable", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(read.pipe(fromMap({
        DROPBOX_SIGN_CLIENT_ID: "id",
        DROPBOX_SIGN_CLIENT_SECRET: "secret",
        DROPBOX_SIGN_OAUTH_URL: "http://app.hellosign.com"
      })))
      expect(String(error)).toContain("DROPBOX_SIGN_OAUTH_URL")
      expect(String(error)).toContain("https://")
    }))

  it.effect("http:// is refused for the API URL too, from code as well", () =>
    Effect.gen(function*() {
      const layer = OAuthConfig.layer({
        clientId: "id",
        clientSecret: Redacted.make("s"),
        apiUrl: "http://10.0.0.5/v3"
      })
      const error = yield* Effect.flip(Layer.build(layer).pipe(Effect.scoped))
      expect(String(error)).toContain("DROPBOX_SIGN_API_URL")
    }))

  it.effect("http:// on loopback hosts is allowed", () =>
    Effect.gen(function*() {
      for (const url of ["http://127.0.0.1:1234", "http://localhost:9/", "http://[::1]:80"]) {
        const config = yield* OAuthConfig.make({ clientId: "id", clientSecret: Redacted.make("s"), oauthUrl: url })
        expect(config.oauthUrl.startsWith("http://")).toBe(true)
        expect(config.oauthUrl.endsWith("/")).toBe(false)
      }
    }))

  it.effect("nonsense URLs and refresh windows are refused", () =>
    Effect.gen(function*() {
      const secret = Redacted.make("s")
      yield* Effect.flip(OAuthConfig.make({ clientId: "id", clientSecret: secret, oauthUrl: "not a url" }))
      yield* Effect.flip(OAuthConfig.make({ clientId: "id", clientSecret: secret, oauthUrl: "ftp://x" }))
      yield* Effect.flip(OAuthConfig.make({ clientId: "id", clientSecret: secret, refreshWindow: { ratio: 2 } }))
      yield* Effect.flip(OAuthConfig.make({ clientId: " ", clientSecret: secret }))
    }))
})
