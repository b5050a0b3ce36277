/**
 * A scripted in-process `HttpClient` for wire-level tests: records every request and answers from a script.
 */
import { HttpClient, HttpClientError, type HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { Effect, Layer, Ref } from "effect"

export interface Captured {
  readonly method: string
  readonly url: string
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
  | { readonly _tag: "Transport"; readonly code: string }
  | { readonly _tag: "Hang" }

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

export const hang: Reply = { _tag: "Hang" }

const bodyText = (request: HttpClientRequest.HttpClientRequest): string =>
  request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : ""

/**
 * Answers the n-th request with `replies[n]` (the last reply repeats). Returns the layer and the captured requests.
 */
export const make = (replies: ReadonlyArray<Reply>) =>
  Effect.gen(function*() {
    const captured = yield* Ref.make<ReadonlyArray<Captured>>([])
    const client = HttpClient.make((request, url) =>
      Effect.gen(function*() {
        const index = (yield* Ref.get(captured)).length
        yield* Ref.update(captured, (all) => [...all, {
          method: request.method,
          url: url.href,
          headers: {
            ...request.headers,
            ...(request.body._tag === "Uint8Array" ? { "content-type": request.body.contentType } : {})
          },
          body: bodyText(request)
        }])
        const reply = replies[Math.min(index, replies.length - 1)]
        switch (reply._tag) {
          case "Hang":
            return yield* Effect.never
          case "Transport": {
            const cause = Object.assign(new Error(`connect ${reply.code}`), { code: reply.code })
            return yield* Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause }))
          }
          case "Response":
            return HttpClientResponse.fromWeb(
              request,
              new Response(reply.body, { status: reply.status, headers: reply.headers ?? {} })
            )
        }
      })
    )
    return {
      layer: Layer.succeed(HttpClient.HttpClient, client),
      requests: Ref.get(captured)
    }
  })
