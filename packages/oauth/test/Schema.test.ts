import { OAuthSchema, OAuthToken } from "@dropbox-sign-effect/oauth"
import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, Effect, Either, FastCheck, FastCheck as fc, Redacted, Schema } from "effect"

import * as TokenCodec from "../src/internal/tokenCodec.js"

const roundtrips = <A, I>(schema: Schema.Schema<A, I>, equals: (a: A, b: A) => boolean) => {
  const arbitrary = Arbitrary.make(schema)
  const encode = Schema.encodeSync(schema)
  const decode = Schema.decodeUnknownSync(schema)
  FastCheck.assert(
    FastCheck.property(arbitrary, (value) => {
      const wire: unknown = JSON.parse(JSON.stringify(encode(value)))
      return equals(decode(wire), value)
    }),
    { numRuns: 200 }
  )
}

/** Structural comparison through the encoded form (Redacted values compare by their content there). */
const sameEncoding = <A, I>(schema: Schema.Schema<A, I>) => (a: A, b: A) =>
  JSON.stringify(Schema.encodeSync(schema)(a)) === JSON.stringify(Schema.encodeSync(schema)(b))

describe("wire classes roundtrip through encode/decode", () => {
  const classes = [
    ["OAuthTokenGenerateRequest", OAuthSchema.OAuthTokenGenerateRequest],
    ["OAuthTokenRefreshRequest", OAuthSchema.OAuthTokenRefreshRequest],
    ["OAuthTokenResponse", OAuthSchema.OAuthTokenResponse],
    ["ErrorResponse", OAuthSchema.ErrorResponse],
    ["Rfc6749ErrorResponse", OAuthSchema.Rfc6749ErrorResponse],
    ["OAuthToken", OAuthToken.OAuthToken]
  ] as const
  for (const [name, schema] of classes) {
    it(
      name,
      () =>
        roundtrips<unknown, unknown>(
          schema as unknown as Schema.Schema<unknown, unknown>,
          sameEncoding(schema as unknown as Schema.Schema<unknown, unknown>)
        )
    )
  }

  it("the error union decodes both shapes", () =>
    roundtrips(OAuthSchema.AnyErrorResponse, sameEncoding(OAuthSchema.AnyErrorResponse)))

  it.effect("the encoded request uses snake_case keys", () =>
    Effect.gen(function*() {
      const encoded = yield* Schema.encode(OAuthSchema.OAuthTokenRefreshRequest)(
        new OAuthSchema.OAuthTokenRefreshRequest({ refreshToken: Redacted.make("r") })
      )
      expect(encoded).toStrictEqual({ grant_type: "refresh_token", refresh_token: "r" })
    }))
})

describe("the cheap codecs do exactly what the Schema does", () => {
  const numRuns = 500

  it.prop("generate bodies: the Schema's encoding, keys in the official SDK's order", [
    Arbitrary.make(OAuthSchema.OAuthTokenGenerateRequest)
  ], ([request]) => {
    const encoded = TokenCodec.encodeGenerate(request)
    if (Either.isLeft(encoded)) return expect.fail("a valid request did not encode")
    expect(encoded.right.json).toBe(JSON.stringify(Schema.encodeSync(OAuthSchema.OAuthTokenGenerateRequest)(request)))
    expect(Object.keys(JSON.parse(encoded.right.json))).toStrictEqual([
      "client_id",
      "client_secret",
      "code",
      "grant_type",
      "state"
    ])
    expect(encoded.right.secrets).toStrictEqual([Redacted.value(request.clientSecret), Redacted.value(request.code)])
  }, { fastCheck: { numRuns } })

  it.prop(
    "refresh bodies: the Schema's encoding",
    [Arbitrary.make(OAuthSchema.OAuthTokenRefreshRequest)],
    ([request]) => {
      const encoded = TokenCodec.encodeRefresh(request)
      if (Either.isLeft(encoded)) return expect.fail("a valid request did not encode")
      expect(encoded.right.json).toBe(JSON.stringify(Schema.encodeSync(OAuthSchema.OAuthTokenRefreshRequest)(request)))
    },
    { fastCheck: { numRuns } }
  )

  it("requests outside their type (plain objects, unchecked instances): the Schema's verdict", () => {
    const same = <A>(
      value: A,
      encode: (value: A) => Either.Either<TokenCodec.EncodedBody, unknown>,
      schema: (value: A) => Either.Either<unknown, unknown>
    ) => {
      const cheap = encode(value)
      const expected = schema(value)
      expect(Either.isRight(cheap)).toBe(Either.isRight(expected))
      if (Either.isRight(cheap) && Either.isRight(expected)) {
        expect(cheap.right.json).toBe(JSON.stringify(expected.right))
      }
      return Either.isRight(cheap)
    }
    const plain = { ...new OAuthSchema.OAuthTokenRefreshRequest({ refreshToken: Redacted.make("r"), clientId: "c" }) }
    expect(same(plain, TokenCodec.encodeRefresh, Schema.encodeEither(OAuthSchema.OAuthTokenRefreshRequest))).toBe(true)
    const unchecked = new OAuthSchema.OAuthTokenGenerateRequest({
      clientId: "c",
      clientSecret: Redacted.make("s"),
      code: Redacted.make("code"),
      state: 42 as unknown as string
    }, true)
    expect(same(unchecked, TokenCodec.encodeGenerate, Schema.encodeEither(OAuthSchema.OAuthTokenGenerateRequest))).toBe(
      false
    )
  })

  const reference = Schema.decodeUnknownEither(Schema.parseJson(OAuthSchema.OAuthTokenResponse))
  const encodeResponse = Schema.encodeSync(OAuthSchema.OAuthTokenResponse)

  /** The cheap decoder against the Schema itself: the same verdict, the same value, the same words. */
  const agrees = (text: string) => {
    const cheap = TokenCodec.decodeTokenBody(text)
    const schema = reference(text)
    if (Either.isRight(schema)) {
      if (Either.isLeft(cheap)) return expect.fail(`the Schema accepts what the decoder refuses (${cheap.left})`)
      expect(cheap.right).toBeInstanceOf(OAuthSchema.OAuthTokenResponse)
      expect(encodeResponse(cheap.right)).toStrictEqual(encodeResponse(schema.right))
      return
    }
    if (Either.isRight(cheap)) return expect.fail("the decoder accepts what the Schema refuses")
    expect(cheap.left).toBe(text.trim() === "" ? "the body is empty" : TokenCodec.describeParseError(schema.left))
  }

  // Each field: its valid shape, a near miss (control characters, other types, other numbers), or any JSON at all.
  const tokenLike = fc.oneof(
    fc.stringMatching(/^[\x21-\x7E]{1,30}$/),
    fc.string({ unit: "binary", maxLength: 12 }),
    fc.constantFrom("", " ", "a b", "a\r\nb", "a\u0000", "\u007f", "é", "tok\t")
  )
  const field = <A>(valid: fc.Arbitrary<A>) =>
    fc.option(fc.oneof(valid, fc.jsonValue({ maxDepth: 1 })), { nil: undefined })
  const fields = fc.record({
    access_token: field(tokenLike),
    token_type: field(fc.constantFrom("Bearer", "bearer", "BEARER", "Mac", "", "Bearer ", "bearer\n")),
    refresh_token: field(tokenLike),
    expires_in: field(fc.oneof(
      fc.integer({ min: -10, max: 100_000 }),
      fc.double(),
      fc.constantFrom(0, 0.5, 1e300, 2 ** 53, 2 ** 53 - 1, -0)
    )),
    state: field(fc.option(fc.string({ maxLength: 10 }), { nil: null })),
    extra: field(fc.string())
  }, { requiredKeys: [] })

  it.prop(
    "token bodies: encoded Schema arbitraries, five near-valid fields, any JSON, any text",
    [
      fc.oneof(
        Arbitrary.make(OAuthSchema.OAuthTokenResponse).map((value) => JSON.stringify(encodeResponse(value))),
        fields.map((value) => JSON.stringify(value)),
        fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
        fc.string({ maxLength: 40 }),
        fc.constantFrom("", "  ", "null", "[]", "{}", "\ufeff{}")
      )
    ],
    ([text]) => agrees(text),
    { fastCheck: { numRuns: 2000 } }
  )
})
