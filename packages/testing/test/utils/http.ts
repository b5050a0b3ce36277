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

/** The default app's client secret, as a token request sends it. */
export const clientSecret = Redacted.value(FakeDropboxSign.defaultApp.clientSecret)

/** How a token request's body is encoded: official SDKs use all three. */
export type Encoding = "json" | "form" | "multipart"

/** `POST /oauth/token` (or `?refresh`) with `fields` in the chosen encoding (default JSON). */
export const tokenRequest = (
  baseUrl: string,
  fields: Readonly<Record<string, string>>,
  options: { readonly refresh?: boolean | undefined; readonly encoding?: Encoding | undefined } = {}
) => {
  const request = HttpClientRequest.post(`${baseUrl}/oauth/token${options.refresh === true ? "?refresh" : ""}`)
  switch (options.encoding ?? "json") {
    case "json":
      return HttpClientRequest.bodyUnsafeJson(request, fields)
    case "form":
      return HttpClientRequest.bodyUrlParams(request, fields)
    case "multipart": {
      const form = new FormData()
      for (const [key, value] of Object.entries(fields)) form.append(key, value)
      return HttpClientRequest.bodyFormData(request, form)
    }
  }
}

/** The fields of a code exchange by the default app. */
export const exchangeFields = (code: string, state: string, overrides: Readonly<Record<string, string>> = {}) => ({
  grant_type: "authorization_code",
  client_id: FakeDropboxSign.defaultApp.clientId,
  client_secret: clientSecret,
  code,
  state,
  ...overrides
})

/** The fields of a refresh by the default app. */
export const refreshFields = (refreshToken: string, overrides: Readonly<Record<string, string>> = {}) => ({
  grant_type: "refresh_token",
  refresh_token: refreshToken,
  client_id: FakeDropboxSign.defaultApp.clientId,
  client_secret: clientSecret,
  ...overrides
})

/** An authorization-code exchange for the default app, as JSON. */
export const exchangeRequest = (baseUrl: string, code: string, state: string) =>
  tokenRequest(baseUrl, exchangeFields(code, state))
