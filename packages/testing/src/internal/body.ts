/**
 * Request body parsing for the token endpoint. The real service accepts JSON, `x-www-form-urlencoded` and
 * `multipart/form-data`, and official SDKs use all three, so the fake parses by content type rather than through a
 * single schema decoder.
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as Multipart from "@effect/platform/Multipart"
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"
import * as Stream from "effect/Stream"

/** A parsed body: its fields (last value wins for repeated keys), or `malformed` when it could not be read. */
export interface ParsedBody {
  readonly contentType: string | undefined
  readonly fields: Readonly<Record<string, unknown>>
  readonly malformed: boolean
}

/** The body of a request that has none (GET). */
export const empty = (contentType: string | undefined): ParsedBody => ({ contentType, fields: {}, malformed: false })

const malformed = (contentType: string | undefined): ParsedBody => ({ contentType, fields: {}, malformed: true })

const mimeType = (contentType: string | undefined): string | undefined =>
  contentType === undefined ? undefined : contentType.split(";")[0]!.trim().toLowerCase()

const fromUrlEncoded = (text: string): Record<string, unknown> => Object.fromEntries(new URLSearchParams(text))

const fromJson = (text: string): Record<string, unknown> | undefined => {
  try {
    const parsed: unknown = JSON.parse(text)
    return Predicate.isRecord(parsed) ? { ...parsed } : undefined
  } catch {
    return undefined
  }
}

const decoder = new TextDecoder()

const partValue = (part: Multipart.Part): Effect.Effect<string, Multipart.MultipartError> =>
  part._tag === "Field" ? Effect.succeed(part.value) : Effect.map(part.contentEffect, (bytes) => decoder.decode(bytes))

const noFields: Readonly<Record<string, unknown>> = {}

const fromMultipart = (request: HttpServerRequest.HttpServerRequest, contentType: string | undefined) =>
  request.multipartStream.pipe(
    Stream.mapEffect((part) => Effect.map(partValue(part), (value) => [part.key, value] as const)),
    Stream.runFold(noFields, (fields, [key, value]) => ({ ...fields, [key]: value })),
    Effect.map((fields): ParsedBody => ({ contentType, fields, malformed: false })),
    Effect.orElseSucceed(() => malformed(contentType))
  )

/**
 * Reads and parses the body. Never fails: a body that cannot be read or parsed is reported as `malformed`, which the
 * endpoint answers with `400 bad_request` like the real service.
 */
export const read = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<ParsedBody> => {
  const contentType = request.headers["content-type"]
  const mime = mimeType(contentType)
  if (mime === "multipart/form-data") {
    return fromMultipart(request, contentType)
  }
  return request.text.pipe(
    Effect.map((text): ParsedBody => {
      if (text.trim() === "") return empty(contentType)
      if (mime === "application/x-www-form-urlencoded") {
        return { contentType, fields: fromUrlEncoded(text), malformed: false }
      }
      // JSON is the documented encoding; anything else that looks like JSON is read as JSON, the rest as a form.
      const json = fromJson(text)
      if (json !== undefined) return { contentType, fields: json, malformed: false }
      if (mime === "application/json" || text.trimStart().startsWith("{")) return malformed(contentType)
      return { contentType, fields: fromUrlEncoded(text), malformed: false }
    }),
    Effect.orElseSucceed(() => malformed(contentType))
  )
}

/** A string field, or `undefined` when it is absent, empty or not a string. */
export const stringField = (fields: Readonly<Record<string, unknown>>, key: string): string | undefined => {
  const value = fields[key]
  return typeof value === "string" && value !== "" ? value : undefined
}
