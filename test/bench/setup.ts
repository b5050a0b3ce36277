/**
 * Shared wiring: grants on the fake, our layers pointed at it, versions of what is measured.
 */
import { createRequire } from "node:module"
import * as Os from "node:os"

import type { TokenStore } from "@dropbox-sign-effect/oauth"
import { OAuthConfig, TokenManager } from "@dropbox-sign-effect/oauth"
import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import type { HttpClient } from "@effect/platform"
import { Effect, Layer, Redacted, Schema } from "effect"
import * as Undici from "undici"

import type { FakeServer } from "./control.js"

export interface Credentials {
  readonly clientId: string
  readonly clientSecret: string
}

export const defaultCredentials: Credentials = {
  clientId: FakeDropboxSign.defaultApp.clientId,
  clientSecret: Redacted.value(FakeDropboxSign.defaultApp.clientSecret)
}

const TokenBody = Schema.Struct({
  access_token: Schema.String,
  refresh_token: Schema.String,
  expires_in: Schema.Number
})

/** Authorizes a grant on the fake (consent skipped) and exchanges its code: the refresh token every client shares. */
export const grant = (server: FakeServer, credentials: Credentials = defaultCredentials) =>
  Effect.gen(function*() {
    const code = yield* server.issueCode({ clientId: credentials.clientId, state: "bench" })
    const body = yield* Effect.promise(async () => {
      const response = await Undici.request(`${server.url}/oauth/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          grant_type: "authorization_code",
          client_id: credentials.clientId,
          client_secret: credentials.clientSecret,
          code,
          state: "bench"
        })
      })
      return response.body.json()
    })
    return yield* Effect.orDie(Schema.decodeUnknown(TokenBody)(body))
  })

/** `OAuthConfig` for the fake: no jitter, so that refresh instants are deterministic. */
export const config = (url: string, credentials: Credentials = defaultCredentials) =>
  OAuthConfig.layer({
    clientId: credentials.clientId,
    clientSecret: Redacted.make(credentials.clientSecret),
    oauthUrl: url,
    apiUrl: `${url}/v3`,
    refreshWindow: { jitter: 0 }
  })

/** A manager without its background refresher (the benchmarks decide when tokens refresh). */
export const managerLayer = (
  url: string,
  credentials: Credentials = defaultCredentials
): Layer.Layer<TokenManager.TokenManager, never, TokenStore.TokenStore | HttpClient.HttpClient> =>
  TokenManager.layerWithClient({ backgroundRefresh: false }).pipe(
    Layer.provide(Layer.orDie(config(url, credentials)))
  )

const require = createRequire(import.meta.url)
const versionOf = (name: string): string => {
  try {
    const manifest: unknown = require(`${name}/package.json`)
    return typeof manifest === "object" && manifest !== null && "version" in manifest ?
      String(manifest.version) :
      "unknown"
  } catch {
    return "unknown"
  }
}

export const versions = () => ({
  node: process.version,
  effect: versionOf("effect"),
  "@effect/platform": versionOf("@effect/platform"),
  "@effect/platform-node": versionOf("@effect/platform-node"),
  "@dropbox/sign": versionOf("@dropbox/sign"),
  "google-auth-library": versionOf("google-auth-library"),
  "simple-oauth2": versionOf("simple-oauth2"),
  undici: versionOf("undici")
})

export const machine = () => ({
  platform: `${Os.platform()} ${Os.release()} ${Os.arch()}`,
  cpus: Os.cpus().length,
  cpuModel: Os.cpus()[0]?.model ?? "unknown",
  memoryGiB: Math.round(Os.totalmem() / 2 ** 30)
})
