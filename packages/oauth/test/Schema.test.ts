import { OAuthSchema, OAuthToken } from "@dropbox-sign-effect/oauth"
import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, Effect, FastCheck, Redacted, Schema } from "effect"

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
