/**
 * The generic transport: any `HttpClient.HttpClient` (fetch, undici through `@effect/platform-node`, the in-memory fake,
 * an application's own client). The per-attempt timeout follows `Clock`, so `TestClock` drives it.
 */
import type { HttpClientError } from "@effect/platform"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { Effect, Stream } from "effect"

import { readBounded } from "./boundedBody.js"
import type { Transport, TransportSettings } from "./oauthApi.js"
import * as transport from "./transport.js"

// With fetch, a redirect would be followed with the body: ask for it to be handed back instead.
const manualRedirect: RequestInit = { redirect: "manual" }

/** A response without a body (a 204, a 304) reads as an empty one, as `text` would. */
const withoutBody = (stream: Stream.Stream<Uint8Array, HttpClientError.ResponseError>) =>
  Stream.catchAll(stream, (error) => error.reason === "EmptyBody" ? Stream.empty : Stream.fail(error))

export const make = (client: HttpClient.HttpClient, settings: TransportSettings): Transport => {
  // Trace headers are not sent to a third-party authorization server.
  const untraced = client.pipe(HttpClient.withTracerPropagation(false))
  const timedOut = () => transport.timedOut()
  return (url) => {
    // Built once per URL: the method, URL and headers never change.
    const base = HttpClientRequest.post(url).pipe(
      HttpClientRequest.setHeaders({ accept: "application/json", "user-agent": settings.userAgent })
    )
    return (json) =>
      untraced.execute(HttpClientRequest.bodyText(base, json, "application/json")).pipe(
        Effect.flatMap((response) =>
          Effect.map(
            readBounded(withoutBody(response.stream), settings.maxResponseBytes, transport.bodyInterrupted),
            (body) => ({
              status: response.status,
              header: (name: string) => response.headers[name],
              body: body.text,
              truncated: body.truncated
            })
          )
        ),
        Effect.catchTags({
          RequestError: (error) => Effect.fail(transport.fromRequestError(error)),
          ResponseError: (error) => Effect.fail(transport.bodyInterrupted(error.cause))
        }),
        Effect.timeoutFail({ duration: settings.requestTimeout, onTimeout: timedOut }),
        Effect.provideService(FetchHttpClient.RequestInit, manualRedirect)
      )
  }
}
