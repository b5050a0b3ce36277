/**
 * An `HttpClient` that serves every request with an `HttpApp` in a fiber of its own: no socket, no port, any host.
 * The handler fiber inherits the caller's services, which keeps `TestClock` in charge of the app's time; a client
 * timeout interrupts a hanging handler.
 *
 * Requests and responses are handed over as bytes, without web `Request`/`Response` objects: their body streams cost
 * several times what the fake itself does, and tests fire thousands of requests through it.
 */
import type { HttpApp } from "@effect/platform"
import {
  Cookies,
  Headers,
  HttpClient,
  HttpClientError,
  type HttpClientRequest,
  HttpClientResponse,
  HttpIncomingMessage,
  type HttpMethod,
  HttpServerError,
  HttpServerRequest,
  HttpServerResponse,
  Multipart,
  UrlParams
} from "@effect/platform"
import { Chunk, Effect, Fiber, Inspectable, Option, Stream } from "effect"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

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

/** The server side of an in-memory request. */
class LocalServerRequest extends Inspectable.Class implements HttpServerRequest.HttpServerRequest {
  readonly [HttpServerRequest.TypeId]: HttpServerRequest.TypeId = HttpServerRequest.TypeId
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId

  constructor(
    readonly source: HttpClientRequest.HttpClientRequest,
    readonly method: HttpMethod.HttpMethod,
    readonly originalUrl: string,
    readonly url: string,
    readonly headers: Headers.Headers,
    readonly bytes: Uint8Array | undefined
  ) {
    super()
  }

  toJSON(): unknown {
    return { _id: "@effect/platform/HttpServerRequest", method: this.method, url: this.originalUrl }
  }

  modify(options: {
    readonly url?: string | undefined
    readonly headers?: Headers.Headers | undefined
    readonly remoteAddress?: string | undefined
  }): HttpServerRequest.HttpServerRequest {
    return new LocalServerRequest(
      this.source,
      this.method,
      this.originalUrl,
      options.url ?? this.url,
      options.headers ?? this.headers,
      this.bytes
    )
  }

  get remoteAddress(): Option.Option<string> {
    return Option.some("127.0.0.1")
  }

  get cookies(): Readonly<Record<string, string>> {
    return Cookies.parseHeader(this.headers["cookie"] ?? "")
  }

  private decodeError(cause: unknown): HttpServerError.RequestError {
    return new HttpServerError.RequestError({ request: this, reason: "Decode", cause })
  }

  get text(): Effect.Effect<string, HttpServerError.RequestError> {
    return Effect.sync(() => this.bytes === undefined ? "" : decoder.decode(this.bytes))
  }

  get json(): Effect.Effect<unknown, HttpServerError.RequestError> {
    return Effect.flatMap(
      this.text,
      (text) => Effect.try({ try: (): unknown => JSON.parse(text), catch: (cause) => this.decodeError(cause) })
    )
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpServerError.RequestError> {
    return Effect.map(this.text, (text) => UrlParams.fromInput(new URLSearchParams(text)))
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpServerError.RequestError> {
    return Effect.sync(() => new Uint8Array(this.bytes ?? []).buffer)
  }

  get stream(): Stream.Stream<Uint8Array, HttpServerError.RequestError> {
    return this.bytes === undefined ?
      Stream.fail(new HttpServerError.RequestError({ request: this, reason: "Decode", description: "empty body" })) :
      Stream.succeed(this.bytes)
  }

  get multipartStream(): Stream.Stream<Multipart.Part, Multipart.MultipartError> {
    return Stream.pipeThroughChannel(
      Stream.mapError(this.stream, (cause) => new Multipart.MultipartError({ reason: "InternalError", cause })),
      Multipart.makeChannel(this.headers)
    )
  }

  get multipart() {
    return Multipart.toPersisted(this.multipartStream)
  }

  get upgrade(): Effect.Effect<never, HttpServerError.RequestError> {
    return Effect.fail(
      new HttpServerError.RequestError({ request: this, reason: "Decode", description: "not upgradeable" })
    )
  }
}

/** The client side of an in-memory response whose body is already bytes. */
class LocalClientResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId

  constructor(
    readonly request: HttpClientRequest.HttpClientRequest,
    readonly status: number,
    readonly headers: Headers.Headers,
    readonly cookies: Cookies.Cookies,
    readonly bytes: Uint8Array | undefined
  ) {
    super()
  }

  // No body: a printed response must not show a token.
  toJSON(): unknown {
    return { _id: "@effect/platform/HttpClientResponse", request: this.request.toJSON(), status: this.status }
  }

  get remoteAddress(): Option.Option<string> {
    return Option.none()
  }

  private decodeError(cause: unknown): HttpClientError.ResponseError {
    return new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return Effect.sync(() => this.bytes === undefined ? "" : decoder.decode(this.bytes))
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: (): unknown => text === "" ? null : JSON.parse(text),
        catch: (cause) => this.decodeError(cause)
      }))
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return Effect.map(this.text, (text) => UrlParams.fromInput(new URLSearchParams(text)))
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return Effect.sync(() => new Uint8Array(this.bytes ?? []).buffer)
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return Effect.tryPromise({
      try: () =>
        new Response(new Uint8Array(this.bytes ?? []), {
          headers: { "content-type": this.headers["content-type"] ?? "" }
        })
          .formData(),
      catch: (cause) => this.decodeError(cause)
    })
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return this.bytes === undefined ?
      Stream.fail(
        new HttpClientError.ResponseError({
          request: this.request,
          response: this,
          reason: "EmptyBody",
          description: "can not create stream from empty body"
        })
      ) :
      Stream.succeed(this.bytes)
  }
}

const toClientResponse = (
  request: HttpClientRequest.HttpClientRequest,
  response: HttpServerResponse.HttpServerResponse
): HttpClientResponse.HttpClientResponse => {
  const body = response.body
  const local = (bytes: Uint8Array | undefined) =>
    new LocalClientResponse(request, response.status, response.headers, response.cookies, bytes)
  if (request.method === "HEAD" || body._tag === "Empty") return local(undefined)
  if (body._tag === "Uint8Array") return local(body.body)
  if (body._tag === "Raw" && typeof body.body === "string") return local(encoder.encode(body.body))
  // Streams and other rare bodies go through the platform's web conversion.
  return HttpClientResponse.fromWeb(request, HttpServerResponse.toWeb(response))
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
