/**
 * Decoder fuzzing: fast-check feeds arbitrary JSON, arbitrary bytes (invalid UTF-8 included) and arbitrary header
 * values to every response decoder and header parser — through `OAuthApi` over a scripted `HttpClient` (the internal
 * parsers are not importable across projects, and going through the service checks what callers actually get) — and
 * arbitrary strings and URLs to `OAuthState.parseCallback`, plus stored entries to `TokenStoreKit.decodeEntry`. Nothing
 * throws or dies: every input decodes, or fails with the documented typed error. Where the outcome is computable from
 * the input (a structured body, a numeric header), the property checks the exact outcome too.
 */
import type { OAuthError } from "@dropbox-sign-effect/oauth"
import {
  AccountId,
  OAuthApi,
  OAuthClient,
  OAuthConfig,
  OAuthSchema,
  OAuthState,
  TokenCipher,
  TokenStoreKit
} from "@dropbox-sign-effect/oauth"
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  DateTime,
  Duration,
  Effect,
  Either,
  Exit,
  FastCheck as fc,
  Layer,
  Option,
  Predicate,
  Redacted,
  TestClock
} from "effect"

import * as Support from "./support.js"

const numRuns = Number(process.env["RELIABILITY_FUZZ_RUNS"] ?? "400")
const parameters = { numRuns }

/** The instant every sample runs at. */
const now = Date.parse("2025-06-01T12:00:00Z")

const clientSecret = "fuzz-client-secret-5d1e0c7a9b"
const refreshToken = "fuzz-refresh-token-2f8a61c4e0"

/** A response as the scripted client answers it. Header values are byte strings, as they arrive from a socket. */
interface Reply {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body: string | Uint8Array
}

// Statuses whose responses cannot carry a body (the fetch `Response` refuses one).
const nullBodyStatuses: ReadonlySet<number> = new Set([204, 205, 304])

const scripted = (reply: Reply): HttpClient.HttpClient =>
  HttpClient.make((request) =>
    Effect.sync(() =>
      HttpClientResponse.fromWeb(
        request,
        new Response(nullBodyStatuses.has(reply.status) ? null : reply.body, {
          status: reply.status,
          headers: reply.headers ?? {}
        })
      )
    )
  )

/** One refresh through `OAuthApi`, without retries, answered by `reply`. */
const refreshWith = (reply: Reply): Effect.Effect<Exit.Exit<OAuthSchema.OAuthTokenResponse, OAuthError.OAuthError>> =>
  Effect.gen(function*() {
    const api = yield* OAuthApi.make
    return yield* Effect.exit(
      api.oauthTokenRefresh(
        new OAuthSchema.OAuthTokenRefreshRequest({
          refreshToken: Redacted.make(refreshToken),
          clientId: "fuzz-client",
          clientSecret: Redacted.make(clientSecret)
        })
      )
    )
  }).pipe(
    Effect.provide(Layer.merge(
      Layer.succeed(HttpClient.HttpClient, scripted(reply)),
      OAuthConfig.layer({
        clientId: "fuzz-client",
        clientSecret: Redacted.make(clientSecret),
        retrySchedule: OAuthConfig.noRetries
      })
    )),
    Effect.orDie
  )

const account = AccountId.make("fuzz-account")

/** `OAuthClient` over the scripted client, without retries. */
const clientLayer = (reply: Reply) =>
  OAuthClient.layerWithApi.pipe(
    Layer.provide(Layer.merge(
      Layer.succeed(HttpClient.HttpClient, scripted(reply)),
      OAuthConfig.layer({
        clientId: "fuzz-client",
        clientSecret: Redacted.make(clientSecret),
        retrySchedule: OAuthConfig.noRetries
      })
    )),
    Layer.orDie
  )

/** The typed failure of an exit; fails the test on a defect or an interruption. */
const failureOf = <A, E>(exit: Exit.Exit<A, E>): Option.Option<E> => {
  const tag = Support.outcomeTag(exit)
  if (tag === "Defect" || tag === "Interrupted") expect.fail(`${tag}: ${String(exit)}`)
  return Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
}

/**
 * `it.effect.prop` without a fresh test context per sample (see `Support.checkProperty`): the samples share this test's
 * `TestClock`, set to a fixed instant first, so that rate-limit waits computed from `Clock` are reproducible.
 */
const effectProp = <T>(
  name: string,
  arbitraries: { readonly [K in keyof T]: fc.Arbitrary<T[K]> },
  body: (value: T) => Effect.Effect<void>
) =>
  it.effect(name, () =>
    Effect.zipRight(
      TestClock.setTime(now),
      Support.checkProperty(fc.record<T>(arbitraries), body, parameters)
    ))

// -----------------------------------------------------------------------------
// arbitraries
// -----------------------------------------------------------------------------

/** Any byte but NUL, CR and LF, as a one-character string: what a header value may hold. */
const headerChar = fc.integer({ min: 1, max: 255 }).filter((c) => c !== 10 && c !== 13).map((c) =>
  String.fromCharCode(c)
)

const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: headerChar, maxLength: 40 }),
  fc.nat().map(String),
  fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
  fc.integer({ min: -1_000_000, max: -1 }).map(String),
  fc.double({ noNaN: false }).map(String),
  fc.date({ min: new Date(-8_640_000_000_000_000), max: new Date(8_640_000_000_000_000), noInvalidDate: true }).map((
    date
  ) => date.toUTCString()),
  fc.constantFrom("", " ", "0", " 12 ", "1e3", "Infinity", "-0", "NaN", "0x10", "Wed, 21 Oct 2015 07:28:00 GMT", "abc")
)

const jsonText = fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value))

const bytes = fc.uint8Array({ maxLength: 300 })

const anyBody: fc.Arbitrary<string | Uint8Array> = fc.oneof(jsonText, bytes, fc.string({ maxLength: 80 }))

/** A field that is sometimes missing, sometimes of the right type, sometimes anything JSON. */
const field = <A>(right: fc.Arbitrary<A>) =>
  fc.option(fc.oneof(right, fc.jsonValue({ maxDepth: 1 })), { nil: undefined })

/** Printable ASCII with spaces, control characters and non-ASCII mixed in now and then. */
const tokenText = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.constantFrom("tok\r\nen", "tok\u0000", "tok en", "\ttok", "tok\u007f")
)

const tokenFields = fc.record({
  access_token: field(tokenText),
  token_type: field(fc.oneof(fc.constantFrom("Bearer", "bearer", "BEARER", "Bearer "), fc.string({ maxLength: 8 }))),
  refresh_token: field(tokenText),
  expires_in: field(fc.oneof(
    fc.integer({ min: -10, max: 100_000 }),
    fc.double(),
    fc.constantFrom(0, 59, 60, 0.5, 60.5, 2 ** 53, 1e300)
  )),
  state: field(fc.option(fc.string({ maxLength: 10 }), { nil: null })),
  extra: field(fc.string())
})

type TokenFields = typeof tokenFields extends fc.Arbitrary<infer A> ? A : never

/** The shortest lifetime `OAuthConfig` accepts by default, in seconds. */
const minTokenLifetime = 60

/**
 * What the decoder must make of `fields`: the documented rules, written out. Tokens are printable ASCII without spaces
 * (RFC 6749's VSCHAR minus the space); the type, when present, is bearer in any case; the lifetime is a whole number
 * of seconds, at least the minimum.
 */
const usable = (fields: TokenFields): boolean => {
  const token = (u: unknown) => Predicate.isString(u) && /^[!-~]+$/.test(u)
  return token(fields.access_token) &&
    Number.isSafeInteger(fields.expires_in) && Number(fields.expires_in) >= minTokenLifetime &&
    (fields.token_type === undefined ||
      Predicate.isString(fields.token_type) && fields.token_type.toLowerCase() === "bearer") &&
    (fields.refresh_token === undefined || token(fields.refresh_token)) &&
    (fields.state === undefined || fields.state === null || Predicate.isString(fields.state))
}

const okStatus = fc.integer({ min: 200, max: 299 })
const clientErrorStatus = fc.integer({ min: 400, max: 499 }).filter((status) => status !== 429)

// -----------------------------------------------------------------------------
// response decoders
// -----------------------------------------------------------------------------

describe("decoders: token responses (2XX)", () => {
  effectProp("arbitrary bodies: a sane token or ResponseDecodeError", { status: okStatus, body: anyBody }, (
    { body, status }
  ) =>
    Effect.gen(function*() {
      const exit = yield* refreshWith({ status, body })
      if (Exit.isSuccess(exit)) {
        expect(Redacted.value(exit.value.accessToken)).toMatch(/^[!-~]+$/)
        expect(Number.isSafeInteger(exit.value.expiresIn) && exit.value.expiresIn >= minTokenLifetime).toBe(true)
        return
      }
      const error = Option.getOrThrow(failureOf(exit))
      expect(error._tag).toBe("ResponseDecodeError")
      expect(error).toMatchObject({ status })
    }))

  effectProp("structured bodies: decoded exactly when the documented fields are usable", {
    status: okStatus.filter((status) => !nullBodyStatuses.has(status)),
    fields: tokenFields
  }, ({ fields, status }) =>
    Effect.gen(function*() {
      const exit = yield* refreshWith({ status, body: JSON.stringify(fields) })
      expect(Support.outcomeTag(exit)).toBe(usable(fields) ? "Ok" : "ResponseDecodeError")
      if (Exit.isSuccess(exit)) {
        expect(Redacted.value(exit.value.accessToken)).toBe(fields.access_token)
        expect(exit.value.expiresIn).toBe(fields.expires_in)
      }
    }))
})

describe("decoders: from token response to stored token", () => {
  const lifetime = fc.oneof(
    fc.integer({ min: minTokenLifetime, max: Number.MAX_SAFE_INTEGER }),
    fc.integer({ min: minTokenLifetime, max: 10 ** 9 }),
    fc.constantFrom(minTokenLifetime, 8.64e9, 1e10, 1e15, Number.MAX_SAFE_INTEGER)
  )

  effectProp("any accepted lifetime gives a token that a persistent store can encode and decode back", {
    expiresIn: lifetime
  }, ({ expiresIn }) =>
    Effect.gen(function*() {
      const body = JSON.stringify({ access_token: "fuzz-access", token_type: "Bearer", expires_in: expiresIn })
      const exit = yield* Effect.exit(
        Effect.gen(function*() {
          const client = yield* OAuthClient.OAuthClient
          const token = yield* client.refresh(Redacted.make(refreshToken))
          const entry = { account, token, version: 1, status: "active" as const, updatedAt: token.issuedAt }
          const encoded = yield* TokenStoreKit.encodeEntry(entry)
          return yield* TokenStoreKit.decodeEntry(account, encoded)
        }).pipe(Effect.provide(clientLayer({ status: 200, body })))
      )
      expect(Support.outcomeTag(exit)).toBe("Ok")
      if (Exit.isSuccess(exit)) {
        expect(DateTime.greaterThan(exit.value.token.expiresAt, exit.value.token.issuedAt)).toBe(true)
      }
    }))
})

describe("decoders: error responses", () => {
  const dropboxShape = fc.record({
    error: fc.record({
      error_msg: fc.oneof(fc.string({ maxLength: 30 }), fc.jsonValue({ maxDepth: 1 })),
      error_name: fc.oneof(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 1 })),
      error_path: field(fc.string({ maxLength: 10 }))
    })
  })
  const rfcShape = fc.record({
    error: fc.oneof(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 1 })),
    error_description: field(fc.string({ maxLength: 30 }))
  })

  effectProp("4XX with arbitrary bodies: OAuthApiError with the status", {
    status: clientErrorStatus,
    body: anyBody
  }, ({ body, status }) =>
    Effect.gen(function*() {
      const error = Option.getOrThrow(failureOf(yield* refreshWith({ status, body })))
      expect(error._tag).toBe("OAuthApiError")
      expect(error).toMatchObject({ status })
    }))

  effectProp("4XX in either shape: the error name is read exactly; anything else is http_<status>", {
    status: clientErrorStatus,
    body: fc.oneof(dropboxShape, rfcShape)
  }, ({ body, status }) =>
    Effect.gen(function*() {
      const error = Option.getOrThrow(failureOf(yield* refreshWith({ status, body: JSON.stringify(body) })))
      if (error._tag !== "OAuthApiError") return expect.fail(`expected OAuthApiError, got ${error._tag}`)
      const inner = body.error
      const description = "error_description" in body ? body.error_description : undefined
      const expected = Predicate.isString(inner) ?
        (description === undefined || Predicate.isString(description) ? inner : undefined) :
        Predicate.isRecord(inner) && Predicate.isString(inner["error_name"]) &&
          Predicate.isString(inner["error_msg"]) &&
          (inner["error_path"] === undefined || Predicate.isString(inner["error_path"])) ?
        inner["error_name"] :
        undefined
      expect(error.errorName).toBe(expected ?? `http_${status}`)
    }))

  effectProp("3XX and 5XX: unexpected_redirect / unexpected_status, or ServerError", {
    status: fc.oneof(fc.integer({ min: 300, max: 399 }), fc.integer({ min: 500, max: 599 })),
    body: anyBody
  }, ({ body, status }) =>
    Effect.gen(function*() {
      const error = Option.getOrThrow(failureOf(yield* refreshWith({ status, body })))
      if (status >= 500) {
        expect(error).toMatchObject({ _tag: "ServerError", status })
      } else {
        expect(error).toMatchObject({ _tag: "OAuthApiError", status, errorName: "unexpected_redirect" })
      }
    }))
})

// -----------------------------------------------------------------------------
// rate-limit headers
// -----------------------------------------------------------------------------

describe("decoders: rate-limit headers on a 429", () => {
  const day = Duration.toMillis(Duration.hours(24))
  const headerSet = fc.record({
    "retry-after": fc.option(headerValue, { nil: undefined }),
    "x-ratelimit-reset": fc.option(
      fc.oneof(headerValue, fc.integer({ min: 0, max: 4_000_000_000 }).map(String)),
      { nil: undefined }
    ),
    "x-ratelimit-limit": fc.option(headerValue, { nil: undefined }),
    "x-ratelimit-remaining": fc.option(headerValue, { nil: undefined })
  })

  const defined = (headers: Record<string, string | undefined>): Record<string, string> =>
    Object.fromEntries(Object.entries(headers).flatMap(([key, value]) => value === undefined ? [] : [[key, value]]))

  const digits = (value: string | undefined): number | undefined => {
    const trimmed = value?.trim()
    return trimmed !== undefined && /^\d{1,15}$/.test(trimmed) ? Number(trimmed) : undefined
  }

  effectProp("RateLimitedError with a finite wait in [0, 24 h] and sane counters, whatever the headers", {
    headers: headerSet,
    body: anyBody,
    casing: fc.boolean()
  }, ({ body, casing, headers }) =>
    Effect.gen(function*() {
      // Header names are case-insensitive on the wire.
      const sent = Object.fromEntries(
        Object.entries(defined(headers)).map(([key, value]) => [casing ? key.toUpperCase() : key, value])
      )
      const error = Option.getOrThrow(failureOf(yield* refreshWith({ status: 429, headers: sent, body })))
      if (error._tag !== "RateLimitedError") return expect.fail(`expected RateLimitedError, got ${error._tag}`)
      const wait = Duration.toMillis(error.retryAfter)
      expect(Number.isFinite(wait) && wait >= 0 && wait <= day).toBe(true)
      for (const counter of [error.limit, error.remaining, error.reset]) {
        if (counter !== undefined) expect(Number.isSafeInteger(counter) && counter >= 0).toBe(true)
      }
      // What the documented rules make of plain numbers: Retry-After seconds first, then the reset instant.
      const retryAfter = digits(headers["retry-after"])
      const reset = digits(headers["x-ratelimit-reset"])
      if (retryAfter !== undefined) expect(wait).toBe(Math.min(retryAfter * 1000, day))
      else if (headers["retry-after"] === undefined && reset !== undefined) {
        expect(wait).toBe(Math.min(Math.max(0, reset * 1000 - now), day))
      }
      expect(error.reset).toBe(reset)
      expect(error.limit).toBe(digits(headers["x-ratelimit-limit"]))
      expect(error.remaining).toBe(digits(headers["x-ratelimit-remaining"]))
    }))
})

// -----------------------------------------------------------------------------
// callback URLs
// -----------------------------------------------------------------------------

describe("decoders: OAuthState.parseCallback", () => {
  const expectedState = "expected-state-Zm9vYmFy"
  const callbackErrors: ReadonlySet<string> = new Set([
    "InvalidCallbackError",
    "StateMismatchError",
    "AuthorizationDeniedError"
  ])

  const checkOutcome = (input: string | URL) => {
    const result = OAuthState.parseCallback(input, expectedState)
    if (Either.isRight(result)) {
      expect(Redacted.value(result.right.code).length).toBeGreaterThan(0)
      expect(result.right.state).toBe(expectedState)
    } else {
      expect(callbackErrors.has(result.left._tag)).toBe(true)
    }
    return result
  }

  it.prop("arbitrary strings (unicode, lone surrogates) and URLs: a callback or a callback error", [
    fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: "binary", maxLength: 80 }),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.string({ maxLength: 40 }).map((s) => `https://app.example/cb?${s}`)
    )
  ], ([input]) => {
    checkOutcome(input)
  }, { fastCheck: parameters })

  const param = fc.tuple(
    fc.constantFrom("code", "state", "error", "error_description", "other"),
    fc.oneof(fc.constant(expectedState), fc.string({ maxLength: 12 }), fc.constant(""))
  )

  it.prop("built query strings: the documented outcome, as a string and as a URL", [
    fc.array(param, { maxLength: 6 })
  ], ([params]) => {
    const url = new URL("https://app.example/callback")
    for (const [key, value] of params) url.searchParams.append(key, value)
    const first = (key: string) => url.searchParams.get(key)
    const state = first("state")
    const expected = first("error") !== null ?
      (state !== null && state === expectedState ? "AuthorizationDeniedError" : "StateMismatchError") :
      state === null || state === "" ?
      "InvalidCallbackError" :
      state !== expectedState ?
      "StateMismatchError" :
      first("code") === null || first("code") === "" ?
      "InvalidCallbackError" :
      "Ok"
    for (const input of [url.href, url]) {
      const result = checkOutcome(input)
      expect(Either.isRight(result) ? "Ok" : result.left._tag).toBe(expected)
    }
  }, { fastCheck: parameters })
})

// -----------------------------------------------------------------------------
// stored entries
// -----------------------------------------------------------------------------

describe("decoders: stored token entries", () => {
  const key = Redacted.make("0".repeat(64))

  effectProp("arbitrary stored text, plain or encrypted: an entry or TokenStoreError", {
    text: fc.oneof(
      fc.string({ maxLength: 200 }),
      jsonText,
      fc.uint8Array({ maxLength: 120 }).map((b) => `enc:v1:${Buffer.from(b).toString("base64url")}`),
      fc.string({ maxLength: 60 }).map((s) => `enc:${s}`)
    ),
    encrypted: fc.boolean()
  }, ({ encrypted, text }) =>
    Effect.gen(function*() {
      const cipher = encrypted ? yield* Effect.orDie(TokenCipher.make(key)) : TokenCipher.plaintext
      const exit = yield* Effect.exit(TokenStoreKit.decodeEntry(account, text, { cipher }))
      const tag = Support.outcomeTag(exit)
      expect(tag === "Ok" || tag === "TokenStoreError").toBe(true)
    }))
})
