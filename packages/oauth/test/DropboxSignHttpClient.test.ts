/**
 * The authorized client against test doubles: a scripted API (an `HttpClient` that answers by the bearer token it is
 * given) and the manager over a scripted token endpoint, or a manager of the application's own.
 */
import { DropboxSignHttpClient, OAuthConfig, TokenManager } from "@dropbox-sign-effect/oauth"
import { HttpClient, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted, Ref, Stream } from "effect"

import { alice, config, instrumentedStore, issue, manager, scriptedClient } from "./utils/doubles.js"

/** An API that accepts only the bearer tokens in `valid`, and records the `Authorization` header of each request. */
const scriptedApi = Effect.gen(function*() {
  const valid = yield* Ref.make<ReadonlySet<string>>(new Set())
  const seen = yield* Ref.make<ReadonlyArray<string>>([])
  const client = HttpClient.make((request) =>
    Effect.gen(function*() {
      const authorization = request.headers["authorization"] ?? ""
      yield* Ref.update(seen, (all) => [...all, authorization])
      const ok = (yield* Ref.get(valid)).has(authorization.replace(/^Bearer /, ""))
      return HttpClientResponse.fromWeb(
        request,
        new Response(ok ? `{"account":{"email_address":"jack@example.com"}}` : `{"error":{}}`, {
          status: ok ? 200 : 401,
          headers: { "content-type": "application/json" }
        })
      )
    })
  )
  return {
    client,
    accept: (...tokens: ReadonlyArray<string>) => Ref.set(valid, new Set(tokens)),
    seen: Ref.get(seen)
  }
})

const authorizedClient = (tokens: TokenManager.Service, api: HttpClient.HttpClient) =>
  Effect.map(
    DropboxSignHttpClient.make.pipe(
      Effect.provide(Layer.mergeAll(
        config,
        Layer.succeed(TokenManager.TokenManager, tokens),
        Layer.succeed(HttpClient.HttpClient, api)
      ))
    ),
    (service) => service.forAccount(alice)
  )

const setup = Effect.gen(function*() {
  const server = yield* scriptedClient
  const { store } = yield* instrumentedStore
  const tokens = yield* manager(server.client, store)
  yield* tokens.authorize(alice, { code: "1", state: "s" }, "s")
  const api = yield* scriptedApi
  const http = yield* authorizedClient(tokens, api.client)
  return { api, http, server, tokens }
})

describe("DropboxSignHttpClient", () => {
  it.scoped("sends the manager's token as a bearer token to the API base URL", () =>
    Effect.gen(function*() {
      const { api, http } = yield* setup
      yield* api.accept("access-1")
      const response = yield* http.get("/account")
      expect(response.status).toBe(200)
      expect(response.request.url).toBe(
        `${(yield* OAuthConfig.OAuthConfig.pipe(Effect.provide(config))).apiUrl}/account`
      )
      expect(yield* api.seen).toStrictEqual(["Bearer access-1"])
      // What the caller sees of the request carries no token.
      expect(JSON.stringify(response.toJSON())).not.toContain("access-1")
    }))

  it.scoped("a 401 refreshes once and retries once with the new token", () =>
    Effect.gen(function*() {
      const { api, http, server } = yield* setup
      yield* api.accept("access-2")
      yield* server.answer(issue("2"))
      expect((yield* http.get("/account")).status).toBe(200)
      expect(yield* api.seen).toStrictEqual(["Bearer access-1", "Bearer access-2"])
      expect(yield* server.presented).toStrictEqual(["refresh-1"])
    }))

  it.scoped("concurrent 401s with the same token share one refresh", () =>
    Effect.gen(function*() {
      const { api, http, server } = yield* setup
      yield* api.accept("access-2")
      yield* server.answer(issue("2"))
      const statuses = yield* Effect.forEach(
        Array.from({ length: 20 }),
        () => Effect.map(http.get("/account"), (response) => response.status),
        { concurrency: "unbounded" }
      )
      expect(new Set(statuses)).toStrictEqual(new Set([200]))
      expect(yield* server.presented).toStrictEqual(["refresh-1"])
    }))

  it.scoped("a second 401 is an error, after exactly one refresh", () =>
    Effect.gen(function*() {
      const { http, server } = yield* setup
      yield* server.answer(issue("2"))
      const error = yield* Effect.flip(http.get("/account"))
      expect(error._tag).toBe("ResponseError")
      expect(error.message).toContain("401 Unauthorized again after refreshing")
      expect(yield* server.presented).toStrictEqual(["refresh-1"])
    }))

  it.scoped("a streamed body is not sent twice: its 401 is returned as it is", () =>
    Effect.gen(function*() {
      const { http, server } = yield* setup
      const response = yield* http.execute(
        HttpClientRequest.post("/signature_request/send").pipe(
          HttpClientRequest.bodyStream(Stream.make(new Uint8Array([1])))
        )
      )
      expect(response.status).toBe(401)
      expect(yield* server.presented).toStrictEqual([])
    }))

  it.scoped("works with a manager of the application's own: its token, and refresh on a 401", () =>
    Effect.gen(function*() {
      const api = yield* scriptedApi
      const refreshes = yield* Ref.make(0)
      const first = yield* issue("own-1")
      const second = yield* issue("own-2")
      const own = TokenManager.TokenManager.of({
        accessToken: () => Effect.succeed(first.accessToken),
        token: () => Effect.map(Ref.get(refreshes), (n) => n === 0 ? first : second),
        authorize: () => Effect.succeed(first),
        refresh: () => Effect.as(Ref.update(refreshes, (n) => n + 1), second),
        forget: () => Effect.void,
        refreshDueAccounts: Effect.void,
        events: Stream.empty,
        subscribe: Effect.die("not used")
      })
      yield* api.accept(Redacted.value(second.accessToken))
      const http = yield* authorizedClient(own, api.client)
      expect((yield* http.get("/account")).status).toBe(200)
      expect(yield* api.seen).toStrictEqual(["Bearer access-own-1", "Bearer access-own-2"])
      expect(yield* Ref.get(refreshes)).toBe(1)
    }))
})
