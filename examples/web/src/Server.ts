/**
 * The example's wiring, the same with the embedded fake and with the real Dropbox Sign: the HTTP server, the token
 * manager over undici, and the application.
 */
import * as Http from "node:http"

import type { AuthorizationRoutes, OAuthApi, OAuthClient, OAuthConfig, TokenStore } from "@dropbox-sign-effect/oauth"
import { DropboxSignHttpClient, TokenManager } from "@dropbox-sign-effect/oauth"
import { HttpServer } from "@effect/platform"
import { NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import { Context, Effect, Layer } from "effect"

import * as App from "./App.js"

/** Where the example listens, e.g. `http://127.0.0.1:3000`. */
export class ExampleUrl extends Context.Tag("example-web/ExampleUrl")<ExampleUrl, string>() {}

/** A listening server (not yet serving the application) and its URL. */
export const listen = (options: { readonly port: number; readonly host: string }) =>
  Layer.effect(
    ExampleUrl,
    Effect.map(HttpServer.HttpServer, (server) =>
      server.address._tag === "TcpAddress" ?
        `http://${
          server.address.hostname.includes(":") ? `[${server.address.hostname}]` : server.address.hostname
        }:${server.address.port}` :
        `unix:${server.address.path}`)
  ).pipe(Layer.provideMerge(NodeHttpServer.layer(() => Http.createServer(), options)))

/** The token manager and the API client, given the OAuth configuration and a token store. */
export const tokens: Layer.Layer<
  DropboxSignHttpClient.DropboxSignHttpClient | TokenManager.TokenManager | OAuthClient.OAuthClient | OAuthApi.OAuthApi,
  never,
  OAuthConfig.OAuthConfig | TokenStore.TokenStore
> = DropboxSignHttpClient.layer.pipe(
  Layer.provideMerge(TokenManager.layerWithClient()),
  Layer.provide(NodeHttpClient.layerUndici)
)

/** The application, served on the listening server. */
export const serve: Layer.Layer<
  never,
  never,
  | HttpServer.HttpServer
  | OAuthConfig.OAuthConfig
  | TokenStore.TokenStore
  | AuthorizationRoutes.AuthorizationRoutes
> = App.layer.pipe(Layer.provide(tokens), Layer.provide(NodeHttpServer.layerContext))
