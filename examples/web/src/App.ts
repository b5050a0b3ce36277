/**
 * The example application: a home page, the connected account's page (`GET /v3/account` through
 * `DropboxSignHttpClient`), and the authorization routes mounted under `/dropbox-sign`.
 */
import type { OAuthClient, TokenManager } from "@dropbox-sign-effect/oauth"
import { AuthorizationRoutes, DropboxSignHttpClient, TokenStore } from "@dropbox-sign-effect/oauth"
import {
  HttpClient,
  HttpMiddleware,
  HttpRouter,
  HttpServer,
  HttpServerRequest,
  HttpServerResponse
} from "@effect/platform"
import { Effect, identity, Layer, Option, Schema } from "effect"

import * as Pages from "./Pages.js"
import * as Session from "./Session.js"

const AccountResponse = Schema.Struct({ account: Schema.Struct({ email_address: Schema.String }) })

const home = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const sessions = yield* Session.Sessions
  const store = yield* TokenStore.TokenStore
  const failure = new URL(request.url, "http://example.invalid").searchParams.get(AuthorizationRoutes.failureParam)
  const current = yield* sessions.current(request)
  const { user, withCookie } = Option.isSome(current) ?
    { user: current.value, withCookie: identity<HttpServerResponse.HttpServerResponse> } :
    yield* sessions.start
  const connected = yield* store.get(user).pipe(Effect.map(Option.isSome), Effect.orElseSucceed(() => false))
  return withCookie(Pages.home({ user, connected, failure: failure ?? undefined }))
})

const account = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const sessions = yield* Session.Sessions
  const current = yield* sessions.current(request)
  if (Option.isNone(current)) return HttpServerResponse.redirect("/", { status: 303 })
  const user = current.value
  const client = (yield* DropboxSignHttpClient.DropboxSignHttpClient).forAccount(user)
  return yield* HttpClient.filterStatusOk(client).get("/account").pipe(
    Effect.flatMap((response) => response.json),
    Effect.flatMap(Schema.decodeUnknown(AccountResponse)),
    Effect.scoped,
    Effect.flatMap((body) =>
      Effect.map(
        AuthorizationRoutes.disconnectToken(user),
        (disconnectToken) => Pages.account({ emailAddress: body.account.email_address, disconnectToken })
      )
    ),
    Effect.catchTags({
      TokenNotFoundError: () => Effect.succeed(Pages.notConnected("Connect your Dropbox Sign account first.")),
      ReauthorizationRequiredError: () =>
        Effect.succeed(Pages.notConnected("Dropbox Sign ended the authorization: connect again."))
    }),
    Effect.catchAll((error) =>
      Effect.as(
        Effect.logWarning("GET /account failed", error._tag),
        Pages.notConnected("Dropbox Sign could not be reached. Try again in a moment.")
      )
    )
  )
})

/** What the application needs besides its sessions. */
export type Services =
  | AuthorizationRoutes.AuthorizationRoutes
  | DropboxSignHttpClient.DropboxSignHttpClient
  | OAuthClient.OAuthClient
  | TokenManager.TokenManager
  | TokenStore.TokenStore

/** Everything the application serves. */
export const router: HttpRouter.HttpRouter<never, Services | Session.Sessions> = HttpRouter.empty.pipe(
  HttpRouter.get("/", home),
  HttpRouter.get("/account", account),
  HttpRouter.mount(
    Pages.routesPrefix,
    AuthorizationRoutes.router({
      resolveAccount: Session.resolveAccount,
      successUrl: "/account",
      failureUrl: "/",
      disconnectedUrl: "/",
      onFailure: (failure) =>
        Effect.logInfo(`Dropbox Sign connection failed: ${failure.reason}`).pipe(
          Effect.annotateLogs({ route: failure.route, error: failure.error._tag })
        )
    })
  )
)

/** The application on the `HttpServer` in context, with its sessions. */
export const layer: Layer.Layer<
  never,
  never,
  HttpServer.HttpServer | HttpRouter.HttpRouter.DefaultServices | Services
> = HttpServer.serve(router, HttpMiddleware.logger).pipe(Layer.provide(Session.layer))
