/**
 * Helpers for the tests of the in-memory client: requests to the library's default base URLs, which the in-memory
 * client serves as they are, and the fake provided per test.
 */
import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import type { HttpClient, HttpClientError } from "@effect/platform"
import { HttpClientRequest } from "@effect/platform"
import { Chunk, Effect, Predicate, Redacted, Schema, TestClock } from "effect"

import {
  type Answer,
  authorizeRequest,
  decode,
  DropboxErrorBody,
  type Encoding,
  exchangeFields,
  oauthUrl,
  refreshFields,
  send,
  TokenBody,
  tokenRequest
} from "./http.js"

/** The library's default API base URL. */
export const apiUrl = "https://api.hellosign.com/v3"

/** RFC 6749's error body. */
export const RfcErrorBody = Schema.Struct({ error: Schema.String, error_description: Schema.String })

/** `GET /v3/account`'s body. */
export const AccountBody = Schema.Struct({
  account: Schema.Struct({ account_id: Schema.String, email_address: Schema.String })
})

/** Exchanges a code for the default app. */
export const exchange = (code: string, state: string, encoding?: Encoding) =>
  send(tokenRequest(oauthUrl, exchangeFields(code, state), { encoding }))

/** Refreshes a token for the default app. */
export const refresh = (refreshToken: string, overrides: Readonly<Record<string, string>> = {}) =>
  send(tokenRequest(oauthUrl, refreshFields(refreshToken, overrides), { refresh: true }))

/** Opens `/oauth/authorize` as a browser would. */
export const authorize = (state: string, clientId?: string) => send(authorizeRequest(oauthUrl, state, clientId))

/** `GET /v3/account`, with a bearer token when one is given. */
export const account = (accessToken?: string) =>
  send(
    HttpClientRequest.get(`${apiUrl}/account`).pipe(
      accessToken === undefined ? (request) => request : HttpClientRequest.bearerToken(accessToken)
    )
  )

/** A code from the fake, skipping the browser, and its token pair. */
export const tokens = (state = "st-1") =>
  Effect.gen(function*() {
    const fake = yield* FakeDropboxSign.FakeDropboxSign
    const code = yield* fake.issueCode({ state })
    return yield* exchange(Redacted.value(code), state).pipe(Effect.flatMap(decode(TokenBody)))
  })

/** The error of a Dropbox-shaped error body. */
export const errorName = (answer: Answer) => Effect.map(decode(DropboxErrorBody)(answer), (body) => body.error)

/** The system error code of a transport failure. */
export const transportCode = (error: HttpClientError.HttpClientError): string | undefined =>
  error._tag === "RequestError" && error.reason === "Transport" &&
    Predicate.hasProperty(error.cause, "code") && Predicate.isString(error.cause.code) ?
    error.cause.code :
    undefined

/** Waits until a forked fiber has registered a sleep with the `TestClock`. */
export const awaitSleeper = Effect.gen(function*() {
  while (Chunk.isEmpty(yield* TestClock.sleeps())) {
    yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
  }
})

/** Runs `effect` with a fresh fake and its in-memory client. */
export const withFake = <A, E>(
  effect: Effect.Effect<A, E, FakeDropboxSign.FakeDropboxSign | HttpClient.HttpClient>,
  options?: FakeDropboxSign.Options
) =>
  Effect.provide(effect, options === undefined ? FakeDropboxSign.layerClient : FakeDropboxSign.layerClientWith(options))
