/**
 * The example against an embedded FakeDropboxSign that serves an HTML consent page, everything on loopback: nothing
 * to configure, nothing leaves the machine.
 */
import type { TokenStore } from "@dropbox-sign-effect/oauth"
import { AuthorizationRoutes, OAuthConfig, TokenCipher } from "@dropbox-sign-effect/oauth"
import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import type { HttpServerError } from "@effect/platform"
import type { ConfigError } from "effect"
import { Effect, Layer } from "effect"

import * as Pages from "./Pages.js"
import * as Server from "./Server.js"

/** The name the fake's consent page shows. */
export const appName = "Example web app"

/** The fake, its default app's callback URL pointing at the example. */
const fake = Layer.unwrapEffect(
  Effect.map(Server.ExampleUrl, (url) =>
    FakeDropboxSign.layerServer({
      defaultApp: { consent: "page", name: appName, callbackUrl: `${url}${Pages.routesPrefix}/callback` }
    }))
)

const config = Layer.unwrapEffect(
  Effect.map(FakeDropboxSign.FakeDropboxSignServer, (server) =>
    OAuthConfig.layer({
      clientId: FakeDropboxSign.defaultApp.clientId,
      clientSecret: FakeDropboxSign.defaultApp.clientSecret,
      oauthUrl: server.oauthUrl,
      apiUrl: server.apiUrl
    }))
)

/** A fresh cookie key per run: a started authorization does not survive a restart of the example, by design. */
const routes = Layer.unwrapEffect(
  Effect.map(TokenCipher.generateKey, (cookieKey) => AuthorizationRoutes.layer({ cookieKey }))
)

/**
 * The example and the fake, with `store` for tokens. Gives the example's URL, the fake and the store, for tests.
 */
export const layer = <E>(options: {
  readonly port: number
  readonly store: Layer.Layer<TokenStore.TokenStore, E>
}): Layer.Layer<
  Server.ExampleUrl | FakeDropboxSign.FakeDropboxSign | FakeDropboxSign.FakeDropboxSignServer | TokenStore.TokenStore,
  E | HttpServerError.ServeError | ConfigError.ConfigError
> =>
  Server.serve.pipe(
    Layer.provideMerge(Layer.mergeAll(config, routes, options.store)),
    Layer.provideMerge(fake),
    Layer.provideMerge(Server.listen({ port: options.port, host: "127.0.0.1" }))
  )
