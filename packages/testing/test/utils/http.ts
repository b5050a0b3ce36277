/**
 * Requests to the fake and decoders for its answers, shared by the in-memory and loopback tests.
 */
import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Effect, Redacted, Schema } from "effect"

/** The library's default OAuth base URL: the in-memory client serves it as it is. */
export const oauthUrl = "https://app.hellosign.com"

/** A response, read whole. */
export interface Answer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly text: string
}

/** Sends a request with the provided `HttpClient` and reads the whole answer. */
export const send = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(request)
    const text = yield* response.text
    const answer: Answer = { status: response.status, headers: response.headers, text }
    return answer
  })

/** Decodes an answer's JSON body. */
export const decode = <A, I>(schema: Schema.Schema<A, I>) => (answer: { readonly text: string }) =>
  Schema.decodeUnknown(Schema.parseJson(schema))(answer.text)

/** A successful token answer. */
export const TokenBody = Schema.Struct({
  access_token: Schema.String,
  token_type: Schema.Literal("Bearer"),
  refresh_token: Schema.String,
  expires_in: Schema.Number,
  state: Schema.NullOr(Schema.String)
})

/** Dropbox Sign's error body. */
export const DropboxErrorBody = Schema.Struct({
  error: Schema.Struct({
    error_msg: Schema.String,
    error_name: Schema.String,
    error_path: Schema.optional(Schema.String)
  })
})

/** `GET /oauth/authorize` as a browser sends it. */
export const authorizeRequest = (
  baseUrl: string,
  state: string,
  clientId: string = FakeDropboxSign.defaultApp.clientId
) =>
  HttpClientRequest.get(`${baseUrl}/oauth/authorize`, {
    urlParams: { response_type: "code", client_id: clientId, state }
  })

/** An authorization-code exchange for the default app, as JSON. */
export const exchangeRequest = (baseUrl: string, code: string, state: string) =>
  HttpClientRequest.post(`${baseUrl}/oauth/token`).pipe(
    HttpClientRequest.bodyUnsafeJson({
      grant_type: "authorization_code",
      client_id: FakeDropboxSign.defaultApp.clientId,
      client_secret: Redacted.value(FakeDropboxSign.defaultApp.clientSecret),
      code,
      state
    })
  )
