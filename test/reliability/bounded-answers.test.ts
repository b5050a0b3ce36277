/**
 * Hostile answers of any size: a token endpoint that sends a 50 MB body (with its `Content-Length`) or one that never
 * ends, streamed as fast as the socket takes it, over every transport of `OAuthApi` (the generic one over undici and
 * over fetch, and the lean undici one). Each fails fast with `ResponseDecodeError` (the documented 64 KiB cap), the
 * server sees the connection dropped long before it finishes, and this process's memory grows by at most a few MB
 * while it happens: sampled every few milliseconds, heap and array buffers together.
 */
import * as Http from "node:http"

import { OAuthApi, OAuthConfig, OAuthSchema } from "@dropbox-sign-effect/oauth"
import { FetchHttpClient, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Redacted, Stream } from "effect"

const MiB = 2 ** 20

/**
 * What the memory may grow by while one hostile answer is read and refused: the "few MB" of the promise. The peak is
 * sampled without collecting garbage and includes the in-process server's own work; measured here: 0.2 to 6.4 MB, where
 * reading the body whole grows by more than the body (50 MB).
 */
const memoryBound = 10 * MiB

/** What the server may get into socket buffers before it notices the client has gone: far below the body's size. */
const bytesBound = 16 * MiB

const chunk = new Uint8Array(64 * 1024).fill(0x20)

type Shape = "50 MB with Content-Length" | "endless, chunked"

const bodyFor = (shape: Shape, sent: { bytes: number }) => {
  const counted = Stream.map((bytes: Uint8Array) => {
    sent.bytes += bytes.length
    return bytes
  })
  return shape === "endless, chunked" ?
    HttpServerResponse.stream(counted(Stream.repeatValue(chunk)), { contentType: "application/json" }) :
    HttpServerResponse.stream(counted(Stream.take(Stream.repeatValue(chunk), (50 * MiB) / chunk.length)), {
      contentType: "application/json",
      contentLength: 50 * MiB
    })
}

/** A loopback server answering every request with a hostile 200; `sent` counts what it managed to write. */
const hostileServer = (shape: Shape) =>
  Effect.gen(function*() {
    const sent = { bytes: 0 }
    const nodeServer = Http.createServer()
    const server = yield* NodeHttpServer.make(() => nodeServer, { port: 0, host: "127.0.0.1" })
    yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer.closeAllConnections()))
    yield* HttpServer.serveEffect(Effect.sync(() => bodyFor(shape, sent))).pipe(
      Effect.provideService(HttpServer.HttpServer, server)
    )
    const port = server.address._tag === "TcpAddress" ? server.address.port : 0
    return { url: `http://127.0.0.1:${port}`, sent }
  })

const transports = {
  "generic over NodeHttpClient.layerUndici": (config: Layer.Layer<OAuthConfig.OAuthConfig>) =>
    OAuthApi.layer.pipe(Layer.provide(config), Layer.provide(NodeHttpClient.layerUndici)),
  "generic over FetchHttpClient": (config: Layer.Layer<OAuthConfig.OAuthConfig>) =>
    OAuthApi.layer.pipe(Layer.provide(config), Layer.provide(FetchHttpClient.layer)),
  "lean undici (OAuthApi.layerUndici)": (config: Layer.Layer<OAuthConfig.OAuthConfig>) =>
    OAuthApi.layerUndici().pipe(Layer.provide(config))
}

const used = () => {
  const memory = process.memoryUsage()
  return memory.heapUsed + memory.arrayBuffers
}

/** Runs `effect` while sampling memory every 2 ms; returns its result and the peak growth over the start. */
const withPeakMemory = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      globalThis.gc?.()
      const start = used()
      const probe = { start, peak: start, timer: setInterval(() => probe.peak = Math.max(probe.peak, used()), 2) }
      return probe
    }),
    (probe) =>
      Effect.map(effect, (value) => {
        probe.peak = Math.max(probe.peak, used())
        return { value, growth: probe.peak - probe.start }
      }),
    (probe) => Effect.sync(() => clearInterval(probe.timer))
  )

const refreshRequest = new OAuthSchema.OAuthTokenRefreshRequest({
  refreshToken: Redacted.make("bounded-refresh-token"),
  clientId: "bounded-client",
  clientSecret: Redacted.make("bounded-client-secret")
})

describe("bounded answers", () => {
  for (const shape of ["50 MB with Content-Length", "endless, chunked"] as const) {
    for (const [name, transport] of Object.entries(transports)) {
      it.live(`${shape}, ${name}: ResponseDecodeError at the 64 KiB cap, memory flat`, () =>
        Effect.scoped(Effect.gen(function*() {
          const server = yield* hostileServer(shape)
          const config = OAuthConfig.layer({
            clientId: "bounded-client",
            clientSecret: Redacted.make("bounded-client-secret"),
            oauthUrl: server.url,
            retrySchedule: OAuthConfig.noRetries
          }).pipe(Layer.orDie)
          const api = Context.get(yield* Layer.build(transport(config)), OAuthApi.OAuthApi)
          const { growth, value: error } = yield* withPeakMemory(Effect.flip(api.oauthTokenRefresh(refreshRequest)))
          expect(error._tag).toBe("ResponseDecodeError")
          if (error._tag !== "ResponseDecodeError") return
          expect(error.description).toBe("the body is larger than the 65536-byte limit")
          expect(growth).toBeLessThan(memoryBound)
          expect(server.sent.bytes).toBeLessThan(bytesBound)
        })))
    }
  }
})
