import { TokenCipher } from "@dropbox-sign-effect/oauth"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Redacted } from "effect"

const hexKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
const keyBytes = Buffer.from(hexKey, "hex")
const plaintext = "{\"token\":\"canary-secret-5b7c\"}"

const expectDecryptError = (cipher: TokenCipher.Service, stored: string, reason: string) =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(cipher.decrypt(stored))
    expect(error._tag).toBe("TokenStoreError")
    expect(error.operation).toBe("decrypt")
    expect(error.message).toContain(reason)
    expect(error.message).not.toContain("canary-secret")
  })

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

describe("TokenCipher", () => {
  it.effect("encrypts to enc:v1:<base64url(iv|tag|ciphertext)> with a fresh IV, and decrypts", () =>
    Effect.gen(function*() {
      const cipher = yield* TokenCipher.make(Redacted.make(hexKey))
      expect(cipher.encrypted).toBe(true)
      const first = yield* cipher.encrypt(plaintext)
      const second = yield* cipher.encrypt(plaintext)
      expect(first.startsWith("enc:v1:")).toBe(true)
      expect(first).not.toBe(second)
      expect(first).not.toContain("canary-secret")
      const bytes = Buffer.from(first.slice("enc:v1:".length), "base64url")
      expect(bytes.length).toBe(12 + 16 + Buffer.byteLength(plaintext))
      expect(yield* cipher.decrypt(first)).toBe(plaintext)
      expect(yield* cipher.decrypt(second)).toBe(plaintext)
      expect(yield* cipher.decrypt(yield* cipher.encrypt(""))).toBe("")
      expect(yield* cipher.decrypt(yield* cipher.encrypt("ünïcødé 🙂"))).toBe("ünïcødé 🙂")
    }))

  it.effect("fails with TokenStoreError on tampering, a wrong key, truncation and foreign formats", () =>
    Effect.gen(function*() {
      const cipher = yield* TokenCipher.make(Redacted.make(hexKey))
      const encrypted = yield* cipher.encrypt(plaintext)
      const bytes = Buffer.from(encrypted.slice(7), "base64url")
      for (const index of [0, 12, 28, bytes.length - 1]) {
        const tampered = Buffer.from(bytes)
        tampered[index] = tampered[index]! ^ 0x80
        yield* expectDecryptError(cipher, `enc:v1:${tampered.toString("base64url")}`, "tampered")
      }
      const wrong = yield* TokenCipher.make(Redacted.make("f".repeat(64)))
      yield* expectDecryptError(wrong, encrypted, "wrong key")
      yield* expectDecryptError(cipher, `enc:v1:${bytes.subarray(0, 20).toString("base64url")}`, "truncated")
      yield* expectDecryptError(cipher, "enc:v1:!!!", "not valid base64url")
      yield* expectDecryptError(cipher, "enc:v2:AAAA", "unsupported encryption format")
      yield* expectDecryptError(cipher, plaintext, "not encrypted")
    }))

  it.effect("plaintext passes values through and refuses encrypted ones", () =>
    Effect.gen(function*() {
      expect(TokenCipher.plaintext.encrypted).toBe(false)
      expect(yield* TokenCipher.plaintext.encrypt(plaintext)).toBe(plaintext)
      expect(yield* TokenCipher.plaintext.decrypt(plaintext)).toBe(plaintext)
      const encrypted = yield* Effect.flatMap(TokenCipher.make(Redacted.make(hexKey)), (cipher) =>
        cipher.encrypt(plaintext))
      yield* expectDecryptError(TokenCipher.plaintext, encrypted, "no encryption key is configured")
    }))

  it("parses 32-byte keys written as hex, base64 and base64url", () => {
    for (
      const text of [
        hexKey,
        hexKey.toUpperCase(),
        keyBytes.toString("base64"),
        keyBytes.toString("base64url"),
        ` ${keyBytes.toString("base64url")}\n`
      ]
    ) {
      const parsed = TokenCipher.parseKey(Redacted.make(text))
      expect(Either.isRight(parsed)).toBe(true)
      if (Either.isRight(parsed)) expect(Buffer.from(Redacted.value(parsed.right))).toStrictEqual(keyBytes)
    }
  })

  it("rejects keys of the wrong length or encoding with a ConfigError that does not quote them", () => {
    const secret = "c2VjcmV0LWtleS10aGF0LWlzLXRvby1zaG9ydA"
    for (const text of [secret, "", "not a key at all!", hexKey.slice(2), keyBytes.toString("hex") + "00"]) {
      const parsed = TokenCipher.parseKey(Redacted.make(text))
      expect(Either.isLeft(parsed)).toBe(true)
      if (Either.isLeft(parsed)) {
        expect(parsed.left._op).toBe("InvalidData")
        expect(String(parsed.left)).toContain("32-byte key")
        if (text.length > 0) expect(String(parsed.left)).not.toContain(text)
      }
    }
  })

  it.effect("layerConfig reads DROPBOX_SIGN_TOKEN_ENCRYPTION_KEY and validates it", () =>
    Effect.gen(function*() {
      const cipher = yield* TokenCipher.TokenCipher.pipe(
        Effect.provide(TokenCipher.layerConfig()),
        withEnv({ DROPBOX_SIGN_TOKEN_ENCRYPTION_KEY: keyBytes.toString("base64url") })
      )
      const reference = yield* TokenCipher.make(Redacted.make(hexKey))
      expect(yield* reference.decrypt(yield* cipher.encrypt(plaintext))).toBe(plaintext)

      const invalid = yield* Effect.flip(
        TokenCipher.TokenCipher.pipe(
          Effect.provide(TokenCipher.layerConfig()),
          withEnv({ DROPBOX_SIGN_TOKEN_ENCRYPTION_KEY: "too-short" })
        )
      )
      expect(invalid._op).toBe("InvalidData")
      expect(String(invalid)).toContain("DROPBOX_SIGN_TOKEN_ENCRYPTION_KEY")
      expect(String(invalid)).not.toContain("too-short")

      const missing = yield* Effect.flip(
        TokenCipher.TokenCipher.pipe(Effect.provide(TokenCipher.layerConfig()), withEnv({}))
      )
      expect(missing._op).toBe("MissingData")
    }))

  it.effect("layer fails with a ConfigError on a bad key; generateKey makes usable keys", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        TokenCipher.TokenCipher.pipe(Effect.provide(TokenCipher.layer(Redacted.make("abc"))))
      )
      expect(error).toMatchObject({ _op: "InvalidData" })
      const generated = yield* TokenCipher.generateKey
      expect(String(generated)).not.toContain(Redacted.value(generated))
      const cipher = yield* TokenCipher.TokenCipher.pipe(Effect.provide(TokenCipher.layer(generated)))
      expect(yield* cipher.decrypt(yield* cipher.encrypt(plaintext))).toBe(plaintext)
    }))
})
