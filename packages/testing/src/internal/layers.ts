/**
 * The fake's two layers: an in-memory `HttpClient` and a loopback HTTP server, each rendering a simulated broken
 * connection as its clients would meet it.
 */
import * as Http from "node:http"

import type { HttpApp, HttpClientRequest, HttpServerError } from "@effect/platform"
import { HttpClient, HttpClientError, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer, NodeHttpServerRequest } from "@effect/platform-node"
import { Context, Effect, Layer } from "effect"

import type { Options, ServerOptions } from "../FakeDropboxSign.js"
import { FakeDropboxSign, FakeDropboxSignServer } from "../FakeDropboxSign.js"
import type { SimulatedTransportFault } from "../FakeDropboxSignFault.js"
import { make } from "./fakeDropboxSign.js"
import * as InMemoryClient from "./inMemoryClient.js"

/** What a client sees of a simulated broken connection: a Node system error, as undici and fetch report it. */
const systemError = (fault: SimulatedTransportFault): Error =>
  fault.kind === "ConnectionReset" ?
    Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET", errno: -104, syscall: "read" }) :
    Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED", errno: -111, syscall: "connect" })

const toClientError = (
  fault: SimulatedTransportFault,
  request: HttpClientRequest.HttpClientRequest
): HttpClientError.HttpClientError =>
  new HttpClientError.RequestError({
    request,
    reason: "Transport",
    cause: systemError(fault),
    description: `FakeDropboxSign: simulated ${fault.kind}`
  })

/** The fake and an in-memory `HttpClient` serving it. */
export const layerClientWith = (options: Options = {}): Layer.Layer<FakeDropboxSign | HttpClient.HttpClient> =>
  Layer.scopedContext(
    Effect.map(make(options), ({ app, service }) =>
      Context.make(FakeDropboxSign, service).pipe(
        Context.add(HttpClient.HttpClient, InMemoryClient.make(app, toClientError))
      ))
  )

/** Over TCP a broken connection is a reset socket; the client sees `ECONNRESET` (or "other side closed"). */
const withSocketFaults = (
  app: HttpApp.Default<SimulatedTransportFault>
): HttpApp.Default<never> =>
  Effect.catchTag(app, "SimulatedTransportFault", () =>
    Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
      NodeHttpServerRequest.toIncomingMessage(request).socket.resetAndDestroy()
      // Written to a destroyed socket: nobody reads it.
      return HttpServerResponse.empty({ status: 500 })
    }))

/** The fake served on 127.0.0.1; every connection is closed on release, hanging ones included. */
export const layerServer = (
  options: ServerOptions = {}
): Layer.Layer<FakeDropboxSign | FakeDropboxSignServer, HttpServerError.ServeError> =>
  Layer.unwrapEffect(Effect.sync(() => {
    const nodeServer = Http.createServer()
    const served = Layer.scopedContext(Effect.gen(function*() {
      const { app, service } = yield* make(options)
      const server = yield* HttpServer.HttpServer
      // Registered after the server started, so it runs before the server's own close, which would otherwise wait
      // for hanging requests and keep-alive connections.
      yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer.closeAllConnections()))
      yield* HttpServer.serveEffect(withSocketFaults(app))
      const port = server.address._tag === "TcpAddress" ? server.address.port : 0
      const url = `http://127.0.0.1:${port}`
      return Context.make(FakeDropboxSign, service).pipe(
        Context.add(FakeDropboxSignServer, { url, oauthUrl: url, apiUrl: `${url}/v3` })
      )
    }))
    return Layer.provide(served, NodeHttpServer.layer(() => nodeServer, { port: options.port ?? 0, host: "127.0.0.1" }))
  }))
