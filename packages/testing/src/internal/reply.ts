/**
 * Responses as plain data: the fake builds a `Reply`, faults may rewrite it (truncate its body, change its content
 * type), and only then is it rendered to an `HttpServerResponse`.
 */
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"

/** An error body shape: Dropbox Sign's own, or the RFC 6749 one older SDKs also handle. */
export type ErrorShape = "dropbox" | "rfc6749"

/** A response before rendering. */
export interface Reply {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | undefined
  readonly contentType: string | undefined
}

/** A JSON reply. */
export const json = (status: number, value: unknown, headers: Readonly<Record<string, string>> = {}): Reply => ({
  status,
  headers,
  body: JSON.stringify(value),
  contentType: "application/json"
})

/** The content type of HTML pages. */
export const htmlContentType = "text/html; charset=utf-8"

/** A reply with any body and content type. */
export const raw = (
  status: number,
  body: string,
  contentType: string | undefined,
  headers: Readonly<Record<string, string>> = {}
): Reply => ({ status, headers, body, contentType })

/** A `302 Found` to `location`. */
export const redirect = (location: string): Reply => ({
  status: 302,
  headers: { location },
  body: undefined,
  contentType: undefined
})

/** Adds headers, keeping those already set by the reply. */
export const withHeaders = (reply: Reply, headers: Readonly<Record<string, string>>): Reply => ({
  ...reply,
  headers: { ...headers, ...reply.headers }
})

/** Dropbox Sign's `error_name` for each status a fault may ask for without naming one. */
const errorNames: Readonly<Record<number, string>> = {
  400: "bad_request",
  401: "unauthorized",
  402: "payment_required",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  410: "deleted",
  422: "unprocessable_entity",
  429: "exceeded_rate"
}

/** The conventional `error_name` for a status. */
export const errorNameFor = (status: number): string =>
  errorNames[status] ?? (status >= 500 ? "internal_server_error" : "bad_request")

/** The RFC 6749 `error` code for a Dropbox `error_name`. */
const rfcCodeFor = (errorName: string): string => {
  switch (errorName) {
    case "bad_request":
      return "invalid_request"
    case "unauthorized":
      return "invalid_client"
    default:
      return errorName
  }
}

/** An error body in either shape. */
export const error = (options: {
  readonly status: number
  readonly shape: ErrorShape
  readonly errorName: string
  readonly errorMsg: string
  readonly errorPath?: string | undefined
  /** The RFC 6749 code, when it is not the one `errorName` maps to. */
  readonly rfcError?: string | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
}): Reply =>
  json(
    options.status,
    options.shape === "rfc6749" ?
      { error: options.rfcError ?? rfcCodeFor(options.errorName), error_description: options.errorMsg } :
      {
        error: {
          error_msg: options.errorMsg,
          error_name: options.errorName,
          ...(options.errorPath === undefined ? {} : { error_path: options.errorPath })
        }
      },
    options.headers
  )

/** Renders a reply. */
export const render = (reply: Reply): HttpServerResponse.HttpServerResponse =>
  reply.body === undefined ?
    HttpServerResponse.empty({ status: reply.status, headers: reply.headers }) :
    HttpServerResponse.text(reply.body, {
      status: reply.status,
      headers: reply.headers,
      ...(reply.contentType === undefined ? {} : { contentType: reply.contentType })
    })
