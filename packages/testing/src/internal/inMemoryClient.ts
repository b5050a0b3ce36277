/**
 * An `HttpClient` that serves every request with an `HttpApp` in a fiber of its own: no socket, no port, any host.
 * The handler fiber inherits the caller's services, which keeps `TestClock` in charge of the app's time; a client
 * timeout interrupts a hanging handler.
 *
 * Requests and responses are handed over as bytes, without web `Request`/`Response` objects: their body streams cost
 * several times what the fake itself does, and tests fire thousands of requests through it.
 */
import type { HttpApp } from "@effect/platform"
import { Headers, HttpClient, HttpClientError, type HttpClientRequest, HttpServerRequest } from "@effect/platform"
import { Chunk, Effect, Fiber, Stream } from "effect"

import { LocalServerRequest, toClientResponse } from "./inMemoryMessages.js"

const encoder = new TextEncoder()

/** A body a web `Response` can serialize (form data, blobs, ...). */
type WebBody = NonNullable<ConstructorParameters<typeof Response>[0]>

const isWebBody = (u: unknown): u is WebBody =>
  u instanceof ArrayBuffer || u instanceof Blob || u instanceof URLSearchParams || u instanceof FormData ||
  u instanceof ReadableStream

interface Payload {
  readonly bytes: Uint8Array | undefined
  /** Set when serializing the body chose it (multipart boundaries). */
  readonly contentType: string | undefined
}

const noPayload: Payload = { bytes: undefined, contentType: undefined }

const concat = (chunks: Chunk.Chunk<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(Chunk.reduce(chunks, 0, (n, chunk) => n + chunk.length))
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}

// Lets the platform's own web implementation encode what it knows best: multipart boundaries and friends.
const serialize = (request: HttpClientRequest.HttpClientRequest, body: WebBody) =>
  Effect.tryPromise({
    try: async (): Promise<Payload> => {
      const response = new Response(body)
      return {
        bytes: new Uint8Array(await response.arrayBuffer()),
        contentType: response.headers.get("content-type") ?? undefined
      }
    },
    catch: (cause) => new HttpClientError.RequestError({ request, reason: "Encode", cause })
  })

const payload = (
  request: HttpClientRequest.HttpClientRequest
): Effect.Effect<Payload, HttpClientError.RequestError> => {
  const body = request.body
  switch (body._tag) {
    case "Empty":
      return Effect.succeed(noPayload)
    case "Uint8Array":
      return Effect.succeed({ bytes: body.body, contentType: undefined })
    case "FormData":
      return serialize(request, body.formData)
    case "Stream":
      return Stream.runCollect(body.stream).pipe(
        Effect.map((chunks): Payload => ({ bytes: concat(chunks), contentType: undefined })),
        Effect.mapError((cause) => new HttpClientError.RequestError({ request, reason: "Encode", cause }))
      )
    case "Raw": {
      const raw = body.body
      if (typeof raw === "string") return Effect.succeed({ bytes: encoder.encode(raw), contentType: undefined })
      if (raw instanceof Uint8Array) return Effect.succeed({ bytes: raw, contentType: undefined })
      if (isWebBody(raw)) return serialize(request, raw)
      return Effect.fail(
        new HttpClientError.RequestError({ request, reason: "Encode", description: "unsupported raw body" })
      )
    }
  }
}

/**
 * Builds the client. `onFailure` turns the app's own failures (simulated transport faults) into client errors.
 */
export const make = <E>(
  app: HttpApp.Default<E>,
  onFailure: (error: E, request: HttpClientRequest.HttpClientRequest) => HttpClientError.HttpClientError
): HttpClient.HttpClient =>
  HttpClient.make((request, url) =>
    Effect.gen(function*() {
      const { bytes, contentType } = yield* payload(request)
      const headers = contentType === undefined
        ? request.headers
        : Headers.set(request.headers, "content-type", contentType)
      const path = url.pathname + url.search
      const serverRequest = new LocalServerRequest(request, request.method, path, path, headers, bytes)
      // The app runs in a fiber of its own, as a server's handler does (the router makes handlers interruptible):
      // a client in an uninterruptible region (one that must store the answer it awaits) keeps waiting for it,
      // while an interrupted client (a timeout) aborts the handler, as a dropped connection does.
      const handler = yield* app.pipe(
        Effect.provideService(HttpServerRequest.HttpServerRequest, serverRequest),
        Effect.scoped,
        Effect.forkDaemon
      )
      const response = yield* Fiber.join(handler).pipe(
        Effect.onInterrupt(() => Fiber.interrupt(handler)),
        Effect.mapError((error) => onFailure(error, request))
      )
      return toClientResponse(request, response)
    })
  )
