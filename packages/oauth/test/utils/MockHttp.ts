/**
 * A scripted token endpoint for wire-level tests: it records every request and answers the n-th one with the n-th
 * reply (the last repeats). It runs in memory, as an `HttpClient` (`make`), or on a loopback socket (`serve`), so that
 * the same tests hold every transport of `OAuthApi` to the same behaviour (`transports`, `api`).
 */
import * as Http from "node:http"

import { OAuthApi, OAuthConfig } from "@dropbox-sign-effect/oauth"
import {
  HttpClient,
  HttpClientError,
  type HttpClientRequest,
  HttpClientResponse,
  HttpServer,
  HttpServerRequest,
  HttpServerResponse
} from "@effect/platform"
import { NodeHttpClient, NodeHttpServer, NodeHttpServerRequest } from "@effect/platform-node"
import { Effect, Layer, Redacted, Ref, Stream } from "effect"
import * as Undici from "undici"

import { fixtures } from "./fixtures.js"

export interface Captured {
  readonly method: string
  /** The full URL as the client built it (in memory) or as the server saw it (`http://<host><path>`). */
  readonly url: string
  /** Path and query. */
  readonly path: string
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

export type Reply =
  | {
    readonly _tag: "Response"
    readonly status: number
    readonly body: string
    readonly headers?: Record<string, string>
  }
  /** `ECONNREFUSED` and the like never reach the server and are not recorded; any other code is a reset socket. */
  | { readonly _tag: "Transport"; readonly code: string }
  | { readonly _tag: "Hang" }
  /** A 200 whose body never ends. */
  | { readonly _tag: "Endless" }

export const json = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({
  _tag: "Response",
  status,
  body: JSON.stringify(body),
  headers: { "content-type": "application/json", ...headers }
})

export const raw = (status: number, body: string, headers?: Record<string, string>): Reply => ({
  _tag: "Response",
  status,
  body,
  ...(headers === undefined ? {} : { headers })
})

export const transport = (code: string): Reply => ({ _tag: "Transport", code })

export const refused: Reply = transport("ECONNREFUSED")

export const reset: Reply = transport("ECONNRESET")

export const hang: Reply = { _tag: "Hang" }

export const endless: Reply = { _tag: "Endless" }

const isRefusal = (reply: Reply) => reply._tag === "Transport" && reply.code === "ECONNREFUSED"

const endlessChunk = new Uint8Array(16 * 1024).fill(0x20)

/** What the script saw besides the requests. */
export interface Counters {
  /** Requests the client gave up on while the server was still answering (a hang or an endless body). */
  readonly abandoned: number
  /** Bytes of endless bodies handed to the client. */
  readonly endlessBytes: number
}

const makeScript = (replies: ReadonlyArray<Reply>) =>
  Effect.map(Ref.make<ReadonlyArray<Captured>>([]), (captured) => {
    let cursor = 0
    // Updated from callbacks of streams and sockets, each event by one writer.
    const counters = { abandoned: 0, endlessBytes: 0 }
    return {
      captured,
      counters,
      peek: () => replies[Math.min(cursor, replies.length - 1)],
      take: () => replies[Math.min(cursor++, replies.length - 1)],
      record: (request: Captured) => Ref.update(captured, (all) => [...all, request]),
      abandon: Effect.sync(() => {
        counters.abandoned++
      })
    }
  })

type Script = Effect.Effect.Success<ReturnType<typeof makeScript>>

// -----------------------------------------------------------------------------
// in memory
// -----------------------------------------------------------------------------

const bodyText = (request: HttpClientRequest.HttpClientRequest): string =>
  request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : ""

const inMemoryClient = (script: Script): HttpClient.HttpClient =>
  HttpClient.make((request, url) =>
    Effect.gen(function*() {
      const reply = script.take()
      const systemError = (code: string) => Object.assign(new Error(`connect ${code}`), { code })
      if (isRefusal(reply)) {
        return yield* new HttpClientError.RequestError({
          request,
          reason: "Transport",
          cause: systemError("ECONNREFUSED")
        })
      }
      yield* script.record({
        method: request.method,
        url: url.href,
        path: url.pathname + url.search,
        headers: {
          ...request.headers,
          ...(request.body._tag === "Uint8Array" ? { "content-type": request.body.contentType } : {})
        },
        body: bodyText(request)
      })
      switch (reply._tag) {
        case "Hang":
          return yield* Effect.onInterrupt(Effect.never, () => script.abandon)
        case "Transport":
          return yield* new HttpClientError.RequestError({
            request,
            reason: "Transport",
            cause: systemError(reply.code)
          })
        case "Endless": {
          const body = new ReadableStream<Uint8Array>({
            pull: (controller) => {
              script.counters.endlessBytes += endlessChunk.length
              controller.enqueue(endlessChunk)
            },
            cancel: () => {
              script.counters.abandoned++
            }
          })
          return HttpClientResponse.fromWeb(request, new Response(body, { status: 200 }))
        }
        case "Response":
          return HttpClientResponse.fromWeb(
            request,
            new Response(reply.body, { status: reply.status, headers: reply.headers ?? {} })
          )
      }
    })
  )

/** The script as an in-memory `HttpClient`. */
export const make = (replies: ReadonlyArray<Reply>) =>
  Effect.map(makeScript(replies), (script) => ({
    layer: Layer.succeed(HttpClient.HttpClient, inMemoryClient(script)),
    requests: Ref.get(script.captured),
    counters: Effect.sync((): Counters => ({ ...script.counters }))
  }))

// -----------------------------------------------------------------------------
// on a loopback socket
// -----------------------------------------------------------------------------

const served = (script: Script) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const reply = script.take()
    const body = new TextDecoder().decode(yield* Effect.orDie(request.arrayBuffer))
    const host = request.headers["host"] ?? ""
    yield* script.record({
      method: request.method,
      url: `http://${host}${request.url}`,
      path: request.url,
      headers: request.headers,
      body
    })
    switch (reply._tag) {
      case "Hang":
        // The connection closing is what the server sees of a client giving up.
        NodeHttpServerRequest.toIncomingMessage(request).socket.once("close", () => {
          script.counters.abandoned++
        })
        return yield* Effect.never
      case "Transport":
        NodeHttpServerRequest.toIncomingMessage(request).socket.resetAndDestroy()
        // Written to a destroyed socket: nobody reads it.
        return HttpServerResponse.empty({ status: 500 })
      case "Endless":
        return HttpServerResponse.stream(
          Stream.repeatEffect(Effect.sync(() => {
            script.counters.endlessBytes += endlessChunk.length
            return endlessChunk
          })).pipe(Stream.ensuring(script.abandon)),
          { status: 200, contentType: "application/json" }
        )
      case "Response":
        return HttpServerResponse.text(reply.body, {
          status: reply.status,
          headers: reply.headers ?? {},
          contentType: reply.headers?.["content-type"] ?? "text/plain"
        })
    }
  })

/**
 * An undici `Agent` whose connections are refused while the script's next reply is a refusal: a refused connection
 * never reaches the server, so it cannot be served.
 */
const scriptedAgent = (script: Script) => {
  const connect = Undici.buildConnector({})
  return new Undici.Agent({
    connect: (options, callback) => {
      if (!isRefusal(script.peek())) return connect(options, callback)
      script.take()
      callback(
        Object.assign(new Error(`connect ECONNREFUSED ${options.hostname}:${options.port}`), { code: "ECONNREFUSED" }),
        null
      )
    }
  })
}

/** The script on `127.0.0.1`, with an undici `Agent` for clients to reach it through. */
export const serve = (replies: ReadonlyArray<Reply>) =>
  Effect.gen(function*() {
    const script = yield* makeScript(replies)
    const nodeServer = Http.createServer()
    const server = yield* NodeHttpServer.make(() => nodeServer, { port: 0, host: "127.0.0.1" })
    // Runs before the server's own close, which would otherwise wait for hanging connections.
    yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer.closeAllConnections()))
    yield* HttpServer.serveEffect(served(script)).pipe(Effect.provideService(HttpServer.HttpServer, server))
    const address = nodeServer.address()
    const port = address !== null && typeof address === "object" ? address.port : 0
    const agent = yield* Effect.acquireRelease(
      Effect.sync(() => scriptedAgent(script)),
      (agent) => Effect.promise(() => agent.destroy())
    )
    return {
      url: `http://127.0.0.1:${port}`,
      agent,
      requests: Ref.get(script.captured),
      counters: Effect.sync((): Counters => ({ ...script.counters }))
    }
  })

// -----------------------------------------------------------------------------
// OAuthApi over each transport
// -----------------------------------------------------------------------------

/**
 * The transports `OAuthApi` is tested over: the generic path with an in-memory client and with undici through
 * `@effect/platform-node` on a socket, and the lean undici path on a socket.
 */
export const transports = ["HttpClient (in memory)", "HttpClient (NodeHttpClient, socket)", "undici (socket)"] as const

export type TransportName = typeof transports[number]

/** Whether `transport` goes through a socket (and so through the server's view of the request). */
export const overSocket = (transport: TransportName): boolean => transport !== "HttpClient (in memory)"

/** The in-memory transport's base URL (any host will do: nothing leaves the process). */
const inMemoryBase = "https://app.hellosign.com"

/**
 * `OAuthApi` over `transport`, answering with `replies`, configured with `options` (the fixture credentials by
 * default). `basePath` is appended to the endpoint's base URL, which is returned as `baseUrl`.
 */
export const api = (
  transport: TransportName,
  replies: ReadonlyArray<Reply>,
  options: Partial<OAuthConfig.Options> & { readonly basePath?: string } = {}
) =>
  Effect.gen(function*() {
    const { basePath = "", ...configOptions } = options
    const config = (oauthUrl: string) =>
      OAuthConfig.layer({
        clientId: fixtures.clientId,
        clientSecret: Redacted.make(fixtures.clientSecret),
        ...configOptions,
        oauthUrl
      })
    if (transport === "HttpClient (in memory)") {
      const mock = yield* make(replies)
      const baseUrl = `${inMemoryBase}${basePath}`
      const service = yield* OAuthApi.make.pipe(Effect.provide(Layer.merge(mock.layer, config(baseUrl))))
      return { api: service, requests: mock.requests, counters: mock.counters, baseUrl }
    }
    const server = yield* serve(replies)
    const baseUrl = `${server.url}${basePath}`
    const service = transport === "undici (socket)" ?
      yield* OAuthApi.makeUndici({ dispatcher: server.agent }).pipe(Effect.provide(config(baseUrl))) :
      yield* OAuthApi.make.pipe(
        Effect.provide(Layer.merge(
          Layer.succeed(HttpClient.HttpClient, NodeHttpClient.makeUndici(server.agent)),
          config(baseUrl)
        ))
      )
    return { api: service, requests: server.requests, counters: server.counters, baseUrl }
  }).pipe(Effect.orDie)
