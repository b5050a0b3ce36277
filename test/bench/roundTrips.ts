/**
 * 1. Token endpoint round trips: `oauthTokenRefresh` through both of our transports (the lean undici one, and the
 * generic one over `NodeHttpClient.layerUndici` and over `FetchHttpClient`), each also with an OpenTelemetry-style
 * tracer installed, against the official SDK, raw `undici.request` and raw `fetch` with the same JSON body, one at a
 * time and 32 at a time. A reference row, "bare Effect HttpClient (undici)", sends the same body through
 * `NodeHttpClient.layerUndici` and parses the JSON with nothing of ours around it: the floor of any client built on
 * `@effect/platform`'s `HttpClient`. Run against the plain fixed-answer server (the clients' own cost shows) and against
 * the fake (its ~0.5 ms of work per request hides much of it).
 */
// dprint and simple-import-sort disagree on the order of "@dropbox-sign-effect/…" and "@dropbox/…"; dprint decides.
/* eslint-disable simple-import-sort/imports */
import { OAuthApi, OAuthConfig, OAuthSchema } from "@dropbox-sign-effect/oauth"
import * as DropboxSign from "@dropbox/sign"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Context, Effect, Layer, Redacted } from "effect"
import * as Undici from "undici"

import { type Candidate, effectLoad, interleave, type Interleaved, promiseLoad, type Sample } from "./measure.js"
import * as OtelStyle from "./tracer.js"

export const candidates = [
  "ours: lean undici",
  "ours: lean undici + tracer",
  "ours: HttpClient (undici)",
  "ours: HttpClient (undici) + tracer",
  "ours: HttpClient (fetch)",
  "@dropbox/sign",
  "raw undici.request",
  "raw fetch",
  "bare Effect HttpClient (undici)"
] as const
export type RoundTripCandidate = typeof candidates[number]

/** Against the fake only what the targets compare: its own cost per request dominates the rest. */
export const fakeCandidates: ReadonlyArray<RoundTripCandidate> = [
  "ours: lean undici",
  "ours: HttpClient (undici)",
  "@dropbox/sign",
  "raw undici.request"
]

/** Where the requests go, and with what. */
export interface Target {
  readonly url: string
  readonly refreshToken: string
  readonly clientId: string
  readonly clientSecret: string
}

export interface Options {
  readonly rounds: number
  /** Requests per candidate before the first round (JIT, connection pools). */
  readonly warmupRequests: number
  readonly sequentialRequests: number
  readonly concurrentRequests: number
  readonly concurrency: number
}

export type Mode = "sequential" | "concurrent"

export type Results = Record<Mode, Interleaved>

const configFor = (target: Target) =>
  OAuthConfig.layer({
    clientId: target.clientId,
    clientSecret: Redacted.make(target.clientSecret),
    oauthUrl: target.url
  }).pipe(Layer.orDie)

const build = (layer: Layer.Layer<OAuthApi.OAuthApi>) => Effect.map(Layer.build(layer), Context.get(OAuthApi.OAuthApi))

export const run = (target: Target, names: ReadonlyArray<RoundTripCandidate>, options: Options) =>
  Effect.gen(function*() {
    const config = configFor(target)
    const lean = yield* build(OAuthApi.layerUndici().pipe(Layer.provide(config)))
    const viaUndici = yield* build(
      OAuthApi.layer.pipe(Layer.provide(config), Layer.provide(NodeHttpClient.layerUndici))
    )
    const viaFetch = yield* build(OAuthApi.layer.pipe(Layer.provide(config), Layer.provide(FetchHttpClient.layer)))
    const request = new OAuthSchema.OAuthTokenRefreshRequest({
      refreshToken: Redacted.make(target.refreshToken),
      clientId: target.clientId,
      clientSecret: Redacted.make(target.clientSecret)
    })

    const sdk = new DropboxSign.OAuthApi()
    sdk.basePath = target.url
    const sdkRequest = new DropboxSign.OAuthTokenRefreshRequest()
    sdkRequest.grantType = "refresh_token"
    sdkRequest.refreshToken = target.refreshToken
    sdkRequest.clientId = target.clientId
    sdkRequest.clientSecret = target.clientSecret

    const refreshUrl = `${target.url}/oauth/token?refresh`
    const wireBody = {
      grant_type: "refresh_token",
      refresh_token: target.refreshToken,
      client_id: target.clientId,
      client_secret: target.clientSecret
    }
    const headers = { "content-type": "application/json", accept: "application/json" }
    const rawUndici = async () => {
      const response = await Undici.request(refreshUrl, { method: "POST", headers, body: JSON.stringify(wireBody) })
      const body = await response.body.json()
      if (response.statusCode !== 200) throw new Error(`raw undici: HTTP ${response.statusCode}`)
      return body
    }
    const rawFetch = async () => {
      const response = await fetch(refreshUrl, { method: "POST", headers, body: JSON.stringify(wireBody) })
      const body: unknown = await response.json()
      if (response.status !== 200) throw new Error(`raw fetch: HTTP ${response.status}`)
      return body
    }

    const http = Context.get(yield* Layer.build(NodeHttpClient.layerUndici), HttpClient.HttpClient)
    const bare = Effect.suspend(() =>
      http.execute(
        HttpClientRequest.post(refreshUrl).pipe(
          HttpClientRequest.acceptJson,
          HttpClientRequest.bodyUnsafeJson(wireBody)
        )
      )
    ).pipe(
      Effect.filterOrDieMessage((response) => response.status === 200, "bare HttpClient: unexpected status"),
      Effect.flatMap((response) => response.json)
    )

    const measure = (requests: number, concurrency: number, warmup: number) => {
      const ours = (api: OAuthApi.Service, traced: boolean) => (n: number) => {
        const load = Effect.orDie(effectLoad(api.oauthTokenRefresh(request), n, concurrency))
        return traced ? Effect.withTracer(load, OtelStyle.make()) : load
      }
      const theirs = (op: () => Promise<unknown>) => (n: number) => promiseLoad(op, n, concurrency)
      const loads: Record<RoundTripCandidate, (n: number) => Effect.Effect<Sample>> = {
        "ours: lean undici": ours(lean, false),
        "ours: lean undici + tracer": ours(lean, true),
        "ours: HttpClient (undici)": ours(viaUndici, false),
        "ours: HttpClient (undici) + tracer": ours(viaUndici, true),
        "ours: HttpClient (fetch)": ours(viaFetch, false),
        "@dropbox/sign": theirs(() => sdk.oauthTokenRefresh(sdkRequest)),
        "raw undici.request": theirs(rawUndici),
        "raw fetch": theirs(rawFetch),
        "bare Effect HttpClient (undici)": (n) => Effect.orDie(effectLoad(bare, n, concurrency))
      }
      const list: ReadonlyArray<Candidate<never, never>> = names.map((name) => ({
        name,
        run: loads[name](requests),
        warmup: loads[name](warmup)
      }))
      return interleave(list, options.rounds)
    }

    const sequential = yield* measure(options.sequentialRequests, 1, options.warmupRequests)
    const concurrent = yield* measure(options.concurrentRequests, options.concurrency, options.warmupRequests / 4)
    return { sequential, concurrent } satisfies Results
  })
