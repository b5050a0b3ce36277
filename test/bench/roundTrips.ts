/**
 * 1. Token endpoint round trips: `oauthTokenRefresh` over our `OAuthApi` (undici and fetch), the official SDK, and
 * raw `undici.request` with the same JSON body, sequentially and 32 at a time. A reference row, "bare Effect
 * HttpClient (undici)", sends the same body through `NodeHttpClient.layerUndici` and parses the JSON, with nothing of
 * ours around it: the floor of any client built on `@effect/platform`'s `HttpClient`.
 */
// dprint and simple-import-sort disagree on the order of "@dropbox-sign-effect/…" and "@dropbox/…"; dprint decides.
/* eslint-disable simple-import-sort/imports */
import { OAuthApi, OAuthSchema } from "@dropbox-sign-effect/oauth"
import * as DropboxSign from "@dropbox/sign"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Context, Effect, Layer, Redacted } from "effect"
import * as Undici from "undici"

import type { FakeServer } from "./control.js"
import {
  type Candidate,
  effectLoad,
  interleave,
  medianSummary,
  promiseLoad,
  type Sample,
  type Summary
} from "./measure.js"
import { config, defaultCredentials, grant } from "./setup.js"

export const candidates = [
  "ours (undici)",
  "ours (fetch)",
  "@dropbox/sign",
  "raw undici",
  "bare Effect HttpClient (undici)"
] as const
export type RoundTripCandidate = typeof candidates[number]

export interface Options {
  readonly rounds: number
  /** Requests per candidate before the first round (JIT, connection pools). */
  readonly warmupRequests: number
  readonly sequentialRequests: number
  readonly concurrentRequests: number
  readonly concurrency: number
}

export type Mode = "sequential" | "concurrent"

export type Results = Record<Mode, Record<RoundTripCandidate, Summary & { readonly rounds: number }>>

const buildApi = (url: string, http: Layer.Layer<HttpClient.HttpClient>) =>
  Effect.map(
    Layer.build(OAuthApi.layer.pipe(Layer.provide(Layer.orDie(config(url))), Layer.provide(http))),
    Context.get(OAuthApi.OAuthApi)
  )

export const run = (server: FakeServer, options: Options) =>
  Effect.gen(function*() {
    const { refresh_token: refreshToken } = yield* grant(server)
    const { clientId, clientSecret } = defaultCredentials

    const viaUndici = yield* buildApi(server.url, NodeHttpClient.layerUndici)
    const viaFetch = yield* buildApi(server.url, FetchHttpClient.layer)
    const request = new OAuthSchema.OAuthTokenRefreshRequest({
      refreshToken: Redacted.make(refreshToken),
      clientId,
      clientSecret: Redacted.make(clientSecret)
    })

    const sdk = new DropboxSign.OAuthApi()
    sdk.basePath = server.url
    const sdkRequest = new DropboxSign.OAuthTokenRefreshRequest()
    sdkRequest.grantType = "refresh_token"
    sdkRequest.refreshToken = refreshToken
    sdkRequest.clientId = clientId
    sdkRequest.clientSecret = clientSecret

    const refreshUrl = `${server.url}/oauth/token?refresh`
    const wireBody = {
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      client_id: clientId,
      client_secret: clientSecret
    }
    const raw = async () => {
      const response = await Undici.request(refreshUrl, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(wireBody)
      })
      const body = await response.body.json()
      if (response.statusCode !== 200) throw new Error(`raw undici: HTTP ${response.statusCode}`)
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
      const ours = (api: OAuthApi.Service) => (n: number) =>
        Effect.orDie(effectLoad(api.oauthTokenRefresh(request), n, concurrency))
      const theirs = (op: () => Promise<unknown>) => (n: number) => promiseLoad(op, n, concurrency)
      const candidate = (name: RoundTripCandidate, load: (n: number) => Effect.Effect<Sample>) => ({
        name,
        run: load(requests),
        warmup: load(warmup)
      })
      const list: ReadonlyArray<Candidate<never, never> & { readonly name: RoundTripCandidate }> = [
        candidate("ours (undici)", ours(viaUndici)),
        candidate("ours (fetch)", ours(viaFetch)),
        candidate("@dropbox/sign", theirs(() => sdk.oauthTokenRefresh(sdkRequest))),
        candidate("raw undici", theirs(raw)),
        candidate("bare Effect HttpClient (undici)", (n) => Effect.orDie(effectLoad(bare, n, concurrency)))
      ]
      return Effect.map(interleave(list, options.rounds), (byName) =>
        Object.fromEntries(candidates.map((name) => [name, medianSummary(byName[name])])) as Record<
          RoundTripCandidate,
          Summary & { readonly rounds: number }
        >)
    }

    const sequential = yield* measure(options.sequentialRequests, 1, options.warmupRequests)
    const concurrent = yield* measure(options.concurrentRequests, options.concurrency, options.warmupRequests / 4)
    return { sequential, concurrent } satisfies Results
  })
