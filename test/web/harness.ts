/**
 * The authorization routes at handler level: requests go through `HttpApp.toHandled` (the same wrapper a real
 * server uses, server span and `HttpMiddleware.logger` included) without a socket, against the in-memory fake.
 */
import type { OAuthApi, OAuthClient, OAuthConfig, TokenManager, TokenStore } from "@dropbox-sign-effect/oauth"
import { AccountId, AuthorizationRoutes } from "@dropbox-sign-effect/oauth"
import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import type { HttpClientError, HttpServerRequest } from "@effect/platform"
import {
  Cookies,
  HttpApp,
  HttpClient,
  HttpMiddleware,
  HttpRouter,
  HttpServerRequest as ServerRequest,
  HttpServerResponse
} from "@effect/platform"
import type { ConfigError } from "effect"
import { Data, Deferred, Effect, Layer, Option, Redacted, Ref } from "effect"

import * as Lifecycle from "../lifecycle/harness.js"

export const origin = "http://127.0.0.1:3000"
export const prefix = "/dropbox-sign"
export const cookieKey = Redacted.make("k3y-for-the-route-tests-only-0123456789abcdef")

/** The application's "not signed in". */
export class NotSignedIn extends Data.TaggedError("NotSignedIn")<{}> {}

/** The user is named by an `x-user` header: a stand-in for the application's session. */
export const resolveAccount = (request: HttpServerRequest.HttpServerRequest) =>
  Option.match(Option.fromNullable(request.headers["x-user"]), {
    onNone: () => Effect.fail(new NotSignedIn()),
    onSome: (user) => Effect.succeed(AccountId.make(user))
  })

type Provided =
  | TokenManager.TokenManager
  | OAuthClient.OAuthClient
  | OAuthApi.OAuthApi
  | OAuthConfig.OAuthConfig
  | TokenStore.TokenStore
  | FakeDropboxSign.FakeDropboxSign
  | HttpClient.HttpClient
  | AuthorizationRoutes.AuthorizationRoutes

export const layer = (
  options: { readonly routes?: Partial<AuthorizationRoutes.Options> } = {}
): Layer.Layer<Provided, ConfigError.ConfigError> =>
  Layer.mergeAll(
    Lifecycle.layer({ fake: { defaultApp: { callbackUrl: `${origin}${prefix}/callback` } } }),
    AuthorizationRoutes.layer({ cookieKey, ...options.routes })
  )

/** The app `makeApp` builds. */
export type App = HttpRouter.HttpRouter<
  never,
  AuthorizationRoutes.AuthorizationRoutes | TokenManager.TokenManager | OAuthClient.OAuthClient
>

/** The routes mounted under `prefix`, every failure recorded in `failures`. */
export const makeApp = (
  options: Partial<AuthorizationRoutes.RouterOptions<NotSignedIn, never>> = {}
): Effect.Effect<{
  readonly app: App
  readonly failures: Ref.Ref<ReadonlyArray<AuthorizationRoutes.Failure<NotSignedIn>>>
}> =>
  Effect.map(Ref.make<ReadonlyArray<AuthorizationRoutes.Failure<NotSignedIn>>>([]), (failures) => ({
    failures,
    app: HttpRouter.empty.pipe(
      HttpRouter.mount(
        prefix,
        AuthorizationRoutes.router({
          resolveAccount,
          successUrl: "/account",
          onFailure: (failure) => Ref.update(failures, (all) => [...all, failure]),
          ...options
        })
      )
    )
  }))

export interface Sent {
  readonly status: number
  /** Lower-case names; `set-cookie` lines are in `setCookie`. */
  readonly headers: Readonly<Record<string, string>>
  readonly setCookie: ReadonlyArray<string>
  readonly body: string
  readonly setCookies: Cookies.Cookies
}

/** Sends a request through the app as a server would, with the server's own logger middleware. */
export const send = <E, R>(
  app: HttpApp.Default<E, R>,
  path: string,
  init: {
    readonly method?: string
    readonly user?: string
    readonly cookie?: string
    readonly headers?: Record<string, string>
    readonly body?: string
  } = {}
): Effect.Effect<Sent, never, R> =>
  Effect.gen(function*() {
    const headers: Record<string, string> = { host: new URL(origin).host, ...init.headers }
    if (init.user !== undefined) headers["x-user"] = init.user
    if (init.cookie !== undefined) headers.cookie = init.cookie
    const request = new Request(new URL(path, origin), {
      method: init.method ?? "GET",
      headers,
      ...(init.body === undefined ? {} : { body: init.body })
    })
    const responded = yield* Deferred.make<HttpServerResponse.HttpServerResponse>()
    yield* HttpApp.toHandled(app, (_, response) => Deferred.succeed(responded, response), HttpMiddleware.logger).pipe(
      Effect.provideService(ServerRequest.HttpServerRequest, ServerRequest.fromWeb(request))
    )
    const response = HttpServerResponse.toWeb(yield* Deferred.await(responded))
    const body = yield* Effect.promise(() => response.text())
    const setCookie = response.headers.getSetCookie()
    const sent: Sent = {
      status: response.status,
      headers: Object.fromEntries([...response.headers].filter(([name]) => name !== "set-cookie")),
      setCookie,
      body,
      setCookies: Cookies.fromSetCookie(setCookie)
    }
    return sent
  })

/** The `name=value` pair to send back, as a browser would. */
export const cookieOf = (sent: Sent, name: string = AuthorizationRoutes.defaultCookieName): string => {
  const cookie = sent.setCookies.cookies[name]
  if (cookie === undefined) throw new Error(`no ${name} cookie was set`)
  return `${name}=${cookie.valueEncoded}`
}

/** Plays the user on Dropbox Sign's consent step: the fake answers with a redirect to the callback. */
export const consent = (authorizeUrl: string) =>
  Effect.gen(function*() {
    const response = yield* HttpClient.get(authorizeUrl)
    const location = response.headers["location"]
    if (location === undefined) throw new Error(`the fake answered ${response.status} without a redirect`)
    const url = new URL(location)
    return `${url.pathname}${url.search}`
  })

/** Connect as `user` and consent: the state cookie and the callback path (code and state in its query). */
export const startAuthorization = <E, R>(
  app: HttpApp.Default<E, R>,
  user: string
): Effect.Effect<
  { readonly connected: Sent; readonly cookie: string; readonly callback: string },
  HttpClientError.HttpClientError,
  R | HttpClient.HttpClient
> =>
  Effect.gen(function*() {
    const connected = yield* send(app, `${prefix}/connect`, { user })
    const location = connected.headers["location"]
    if (location === undefined) throw new Error(`connect answered ${connected.status} without a redirect`)
    return { connected, cookie: cookieOf(connected), callback: yield* consent(location) }
  })

export { FakeDropboxSign }
