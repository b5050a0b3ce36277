/**
 * The loopback server that receives the authorization callback: Dropbox Sign redirects the browser to it with `code`
 * and `state`, and it hands the first callback, checked against the expected state, to whoever awaits it.
 *
 * @since 0.1.0
 */
import * as Http from "node:http"

import type { TokenError } from "@dropbox-sign-effect/oauth"
import { OAuthState } from "@dropbox-sign-effect/oauth"
import type { HttpServerError } from "@effect/platform"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type { Scope } from "effect"
import { Deferred, Effect, Either } from "effect"

/**
 * @since 0.1.0
 * @category models
 */
export interface CallbackServer {
  /** The port it listens on (the one asked for, or the one the system picked for port 0). */
  readonly port: number
  /** `http://127.0.0.1:<port>/callback`: the API app's callback URL must be exactly this. */
  readonly url: string
  /** Waits for the first callback, its `state` already verified. */
  readonly callback: Effect.Effect<OAuthState.Callback, TokenError.CallbackError>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** 0 picks a free port. */
  readonly port: number
  readonly expectedState: string
  /** Default `/callback`. */
  readonly path?: `/${string}` | undefined
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const page = (status: number, title: string, body: string) =>
  HttpServerResponse.text(
    `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
      `<body style="font-family: sans-serif; margin: 3em"><h1>${escapeHtml(title)}</h1><p>${
        escapeHtml(body)
      }</p></body></html>\n`,
    { status, contentType: "text/html; charset=utf-8", headers: { "cache-control": "no-store" } }
  )

/**
 * Starts the server on `127.0.0.1` for the scope's lifetime. Fails with `ServeError` when the port is taken. Only the
 * first callback counts; later ones (a reload) are told so. The browser is answered at once, so that the page does not
 * hang while the code is exchanged: the terminal shows the outcome.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<CallbackServer, HttpServerError.ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    const path = options.path ?? "/callback"
    const received = yield* Deferred.make<OAuthState.Callback, TokenError.CallbackError>()
    const server = yield* NodeHttpServer.make(() => Http.createServer(), { port: options.port, host: "127.0.0.1" })
    const port = server.address._tag === "TcpAddress" ? server.address.port : options.port

    const handle = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const result = OAuthState.parseCallback(request.url, options.expectedState)
      const first = yield* Deferred.complete(received, result)
      if (!first) {
        return page(409, "Already handled", "This authorization was already received. Return to the terminal.")
      }
      return Either.match(result, {
        onLeft: (error) => page(400, "Authorization failed", `${error.message}. Return to the terminal.`),
        onRight: () => page(200, "Authorization received", "You can close this tab and return to the terminal.")
      })
    })

    yield* server.serve(
      HttpRouter.empty.pipe(
        HttpRouter.get(path, handle),
        Effect.catchTag("RouteNotFound", () => Effect.succeed(HttpServerResponse.text("Not found", { status: 404 })))
      )
    )

    return {
      port,
      url: `http://127.0.0.1:${port}${path}`,
      callback: Deferred.await(received)
    }
  })
