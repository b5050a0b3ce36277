/**
 * The generic transport: whatever `HttpClient.HttpClient` the application gives (fetch, undici through
 * `@effect/platform-node`, the in-memory fake, an application's own client). The per-attempt timeout follows `Clock`,
 * so `TestClock` drives it.
 */
import type { Headers, HttpClientError, HttpClientResponse } from "@effect/platform"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { Effect, Option, Stream } from "effect"

import type { TransportError } from "../OAuthError.js"
import { BoundedBody, readBounded } from "./boundedBody.js"
import type { Transport, TransportSettings } from "./oauthApi.js"
import { whenTraced } from "./observability.js"
import * as transport from "./transport.js"

/**
 * With fetch, a redirect would be followed with the body (the secrets): ask for it to be handed back instead, keeping
 * whatever `RequestInit` the program gives (a proxy `dispatcher`, say). One given only to `FetchHttpClient.layer`'s own
 * context cannot be seen from here and gives way to this one: provide it to the program instead.
 */
const withManualRedirects = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(
    Effect.serviceOption(FetchHttpClient.RequestInit),
    (init) =>
      Effect.provideService(effect, FetchHttpClient.RequestInit, {
        ...Option.getOrElse(init, () => ({})),
        redirect: "manual"
      })
  )

/** A response without a body (a 204, a 304) reads as an empty one, as `text` would. */
const withoutBody = (stream: Stream.Stream<Uint8Array, HttpClientError.ResponseError>) =>
  Stream.catchAll(stream, (error) => error.reason === "EmptyBody" ? Stream.empty : Stream.fail(error))

const declaredLength = (value: string | undefined): number | undefined =>
  value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : undefined

/**
 * Reads at most `limit` bytes of the body. A body whose `Content-Length` is within the limit is read in one go: an
 * HTTP client reads no further than the length it was given, and a stream costs about as much as the rest of the
 * request. Any other body (no length, chunked, or longer than the limit) is read as a stream, up to the limit.
 */
const readBody = (
  response: HttpClientResponse.HttpClientResponse,
  headers: Headers.Headers,
  limit: number
): Effect.Effect<BoundedBody, TransportError> => {
  const length = declaredLength(headers["content-length"])
  // A compressed body's length is the compressed size: fetch inflates it before `arrayBuffer` sees any of it.
  const encoded = headers["content-encoding"] !== undefined && headers["content-encoding"] !== "identity"
  if (length === undefined || length > limit || encoded) {
    return readBounded(withoutBody(response.stream), limit, transport.bodyInterrupted)
  }
  return Effect.map(Effect.mapError(response.arrayBuffer, transport.bodyInterrupted), (buffer) => {
    const body = new BoundedBody(limit)
    body.push(new Uint8Array(buffer))
    return body
  })
}

export const make = (client: HttpClient.HttpClient, settings: TransportSettings): Transport => {
  // Trace headers are not sent to a third-party authorization server.
  const untraced = client.pipe(HttpClient.withTracerPropagation(false))
  const timedOut = () => transport.timedOut()
  return (url) => {
    // Built once per URL: the method, URL and headers never change.
    const base = HttpClientRequest.post(url).pipe(
      HttpClientRequest.setHeaders({ accept: "application/json", "user-agent": settings.userAgent })
    )
    return (json) => {
      const execute = untraced.execute(HttpClientRequest.bodyText(base, json, "application/json"))
      // Without a tracer to read it, the client's own `http.client` span is not made either.
      return whenTraced(() => execute, Effect.withTracerEnabled(execute, false)).pipe(
        Effect.flatMap((response) => {
          // Some clients build their headers anew on each access: once is enough.
          const headers = response.headers
          return Effect.map(readBody(response, headers, settings.maxResponseBytes), (body) => ({
            status: response.status,
            header: (name: string) => headers[name],
            body: body.text,
            truncated: body.truncated
          }))
        }),
        Effect.catchTags({
          RequestError: (error) => Effect.fail(transport.fromRequestError(error)),
          ResponseError: (error) => Effect.fail(transport.bodyInterrupted(error.cause))
        }),
        Effect.timeoutFail({ duration: settings.requestTimeout, onTimeout: timedOut }),
        withManualRedirects
      )
    }
  }
}
