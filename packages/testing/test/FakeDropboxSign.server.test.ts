import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import type { HttpClient, HttpClientError } from "@effect/platform"
import { HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Predicate, Redacted, Schema } from "effect"

import { decode, send, TokenBody } from "./utils/http.js"

const { defaultApp, Fault } = FakeDropboxSign
const clientSecret = Redacted.value(defaultApp.clientSecret)

const AccountBody = Schema.Struct({ account: Schema.Struct({ account_id: Schema.String }) })

const serverUrl = Effect.map(FakeDropboxSign.FakeDropboxSignServer, (server) => server.url)

const tokenRequest = (url: string, fields: Readonly<Record<string, string>>, refresh = false) =>
  HttpClientRequest.post(`${url}/oauth/token${refresh ? "?refresh" : ""}`).pipe(
    HttpClientRequest.bodyUnsafeJson(fields)
  )

const exchange = (url: string, code: string, state: string) =>
  send(tokenRequest(url, {
    grant_type: "authorization_code",
    client_id: defaultApp.clientId,
    client_secret: clientSecret,
    code,
    state
  }))

/** Every error code on the cause chain: undici nests the system error. */
const causeCodes = (error: HttpClientError.HttpClientError): ReadonlyArray<string> => {
  const codes: Array<string> = []
  let current: unknown = error.cause
  for (let depth = 0; depth < 5 && current !== undefined; depth++) {
    if (Predicate.hasProperty(current, "code") && Predicate.isString(current.code)) codes.push(current.code)
    current = Predicate.hasProperty(current, "cause") ? current.cause : undefined
  }
  return codes
}

const withServer = <A, E>(
  effect: Effect.Effect<
    A,
    E,
    FakeDropboxSign.FakeDropboxSign | FakeDropboxSign.FakeDropboxSignServer | HttpClient.HttpClient
  >,
  options?: FakeDropboxSign.ServerOptions
) => Effect.provide(effect, Layer.merge(FakeDropboxSign.layerServer(options), NodeHttpClient.layerUndici))

describe("FakeDropboxSign (loopback server)", () => {
  it.live("serves the whole flow on 127.0.0.1 with a free port", () =>
    withServer(Effect.gen(function*() {
      const server = yield* FakeDropboxSign.FakeDropboxSignServer
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(server.apiUrl).toBe(`${server.url}/v3`)
      expect(server.oauthUrl).toBe(server.url)

      const redirect = yield* send(HttpClientRequest.get(`${server.oauthUrl}/oauth/authorize`, {
        urlParams: { response_type: "code", client_id: defaultApp.clientId, state: "loop" }
      }))
      expect(redirect.status).toBe(302)
      const code = new URL(redirect.headers["location"]!).searchParams.get("code")!
      const pair = yield* exchange(server.url, code, "loop").pipe(Effect.flatMap(decode(TokenBody)))
      expect(pair.state).toBe("loop")

      const refreshed = yield* send(tokenRequest(server.url, {
        grant_type: "refresh_token",
        refresh_token: pair.refresh_token,
        client_id: defaultApp.clientId,
        client_secret: clientSecret
      }, true))
      expect(refreshed.status).toBe(200)
      expect(refreshed.headers["x-ratelimit-remaining"]).toBe("98")

      const account = yield* send(
        HttpClientRequest.get(`${server.apiUrl}/account`).pipe(HttpClientRequest.bearerToken(pair.access_token))
      ).pipe(Effect.flatMap(decode(AccountBody)))
      expect(account.account.account_id).toBe(FakeDropboxSign.defaultAccount.accountId)

      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const log = yield* fake.requests
      expect(log.map((r) => r.path)).toEqual([
        "/oauth/authorize?response_type=code&client_id=cc91c61d00f8bb2ece1428035716b&state=loop",
        "/oauth/token",
        "/oauth/token?refresh",
        "/v3/account"
      ])
      expect(JSON.stringify(log)).not.toContain(pair.access_token)
    })))

  it.live("parses form-urlencoded and multipart bodies from a socket", () =>
    withServer(Effect.gen(function*() {
      const url = yield* serverUrl
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const fields = (code: string, state: string) => ({
        grant_type: "authorization_code",
        client_id: defaultApp.clientId,
        client_secret: clientSecret,
        code,
        state
      })
      const formCode = Redacted.value(yield* fake.issueCode({ state: "form" }))
      const form = yield* send(
        HttpClientRequest.post(`${url}/oauth/token`).pipe(HttpClientRequest.bodyUrlParams(fields(formCode, "form")))
      )
      expect(form.status).toBe(200)
      const multipartCode = Redacted.value(yield* fake.issueCode({ state: "multipart" }))
      const data = new FormData()
      for (const [key, value] of Object.entries(fields(multipartCode, "multipart"))) data.append(key, value)
      // Encoded up front: the undici client cannot stream Node's global FormData.
      const encoded = new Response(data)
      const bytes = new Uint8Array(yield* Effect.promise(() => encoded.arrayBuffer()))
      const multipart = yield* send(
        HttpClientRequest.post(`${url}/oauth/token`).pipe(
          HttpClientRequest.bodyUint8Array(bytes, encoded.headers.get("content-type")!)
        )
      )
      expect(multipart.status).toBe(200)
      expect((yield* decode(TokenBody)(multipart)).state).toBe("multipart")
    })))

  it.live("ConnectionReset destroys the socket; processed or not is visible on the next try", () =>
    withServer(Effect.gen(function*() {
      const url = yield* serverUrl
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const code = Redacted.value(yield* fake.issueCode({ state: "s" }))
      yield* fake.injectFault("token", Fault.ConnectionReset({}))
      yield* fake.injectFault("token", Fault.ConnectionReset({ processed: true }))
      const first = yield* Effect.flip(exchange(url, code, "s"))
      expect(first._tag).toBe("RequestError")
      expect(causeCodes(first).join()).toMatch(/ECONNRESET|UND_ERR_SOCKET/)
      const second = yield* Effect.flip(exchange(url, code, "s"))
      expect(second._tag).toBe("RequestError")
      // The second reset happened after the code was exchanged.
      expect((yield* exchange(url, code, "s")).status).toBe(400)
      expect((yield* fake.counters).codesExchanged).toBe(1)
    })))

  it.live("ConnectionRefused resets before reading; the request is not processed", () =>
    withServer(Effect.gen(function*() {
      const url = yield* serverUrl
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const code = Redacted.value(yield* fake.issueCode({ state: "s" }))
      yield* fake.injectFault("token", Fault.ConnectionRefused())
      const error = yield* Effect.flip(exchange(url, code, "s"))
      expect(error._tag).toBe("RequestError")
      expect((yield* exchange(url, code, "s")).status).toBe(200)
      expect(yield* fake.counters).toMatchObject({ tokenRequests: 1, faultsInjected: 1 })
    })))

  it.live("Hang holds the request until the client gives up; the layer still shuts down", () =>
    withServer(Effect.gen(function*() {
      const url = yield* serverUrl
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      yield* fake.injectFault("account", Fault.Hang(), 2)
      const outcome = yield* send(HttpClientRequest.get(`${url}/v3/account`)).pipe(
        Effect.timeout("200 millis"),
        Effect.flip
      )
      expect(outcome._tag).toBe("TimeoutException")
      // A second hanging request is left open: releasing the layer must close it rather than wait.
      yield* Effect.forkDaemon(send(HttpClientRequest.get(`${url}/v3/account`)))
      yield* Effect.sleep("50 millis")
      expect((yield* fake.counters).accountRequests).toBe(2)
    })))

  it.live("Latency and TruncatedJson over the wire", () =>
    withServer(Effect.gen(function*() {
      const url = yield* serverUrl
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const code = Redacted.value(yield* fake.issueCode({ state: "s" }))
      yield* fake.injectFault("token", Fault.Latency({ duration: "150 millis" }))
      yield* fake.injectFault("token", Fault.TruncatedJson())
      const started = Date.now()
      expect((yield* exchange(url, "unknown", "s")).status).toBe(400)
      expect(Date.now() - started).toBeGreaterThanOrEqual(140)
      const truncated = yield* exchange(url, code, "s")
      expect(truncated.status).toBe(200)
      expect(() => JSON.parse(truncated.text)).toThrow()
    })))

  it.live("listens on the requested port", () =>
    Effect.gen(function*() {
      const first = yield* withServer(serverUrl)
      const port = Number(new URL(first).port)
      const again = yield* withServer(serverUrl, { port })
      expect(again).toBe(first)
    }))
})
