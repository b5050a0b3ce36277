/**
 * The README's fleet snippet, type-checked with the tests so that it cannot rot.
 */
import { OAuthConfig, TokenCipher, TokenManager } from "@dropbox-sign-effect/oauth"
import { SqlTokenStore } from "@dropbox-sign-effect/sql"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { Config, Effect, Layer } from "effect"

// Every process of the fleet runs this: one refresh per account across all of them.
const TokensLive = TokenManager.layerWithClient().pipe(
  Layer.provide(SqlTokenStore.layerWithMigrations({ encrypted: true })),
  Layer.provide([
    PgClient.layerConfig({ url: Config.redacted("DATABASE_URL") }),
    TokenCipher.layerConfig(), // DROPBOX_SIGN_TOKEN_ENCRYPTION_KEY
    OAuthConfig.layerConfig(), // DROPBOX_SIGN_CLIENT_ID, DROPBOX_SIGN_CLIENT_SECRET
    NodeHttpClient.layerUndici
  ])
)

const program = Effect.gen(function*() {
  const tokens = yield* TokenManager.TokenManager
  return yield* tokens.accessToken() // Redacted<string>, refreshed once fleet-wide when due
}).pipe(Effect.provide(TokensLive))

/** Not run by the tests: this file only has to type-check. */
export const main = (): void => NodeRuntime.runMain(Effect.asVoid(program))
