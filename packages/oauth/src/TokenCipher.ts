/**
 * Encryption at rest for stored tokens: AES-256-GCM through `node:crypto`, with the key read from `Config.redacted`.
 *
 * @since 0.1.0
 */
import * as Crypto from "node:crypto"

import { Config, ConfigError, Context, Effect, Either, Encoding, Layer, Option, Redacted } from "effect"

import { TokenStoreError } from "./TokenError.js"

/**
 * Turns a serialized entry into the string a store writes, and back. Every store accepts one, so switching on
 * encryption never depends on the backend.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Whether `encrypt` actually encrypts (`false` for `plaintext`). */
  readonly encrypted: boolean
  readonly encrypt: (plaintext: string) => Effect.Effect<string, TokenStoreError>
  /** Fails with `TokenStoreError` on a wrong key, tampered data or an entry in the other mode (plain / encrypted). */
  readonly decrypt: (stored: string) => Effect.Effect<string, TokenStoreError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class TokenCipher extends Context.Tag("@dropbox-sign-effect/oauth/TokenCipher")<TokenCipher, Service>() {}

/**
 * The prefix of every value written by the AES-256-GCM cipher; the version lets a later format coexist with this one.
 *
 * @since 0.1.0
 * @category constants
 */
export const prefix = "enc:v1:"

/**
 * The environment variable `layerConfig` reads by default.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultConfigName = "DROPBOX_SIGN_TOKEN_ENCRYPTION_KEY"

const algorithm = "aes-256-gcm"
const keyLength = 32
const ivLength = 12
const tagLength = 16

const fail = (operation: "encrypt" | "decrypt", reason: string) => new TokenStoreError({ operation, reason })

/**
 * Parses a 32-byte key written as hex (64 digits), base64 or base64url. The message never contains the key.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parseKey = (
  key: Redacted.Redacted<string>
): Either.Either<Redacted.Redacted<Uint8Array>, ConfigError.ConfigError> => {
  const text = Redacted.value(key).trim()
  const bytes = /^[0-9a-f]{64}$/i.test(text)
    ? Either.getRight(Encoding.decodeHex(text))
    : Either.getRight(Encoding.decodeBase64Url(text)).pipe(
      Option.orElse(() => Either.getRight(Encoding.decodeBase64(text)))
    )
  if (Option.isNone(bytes)) {
    return Either.left(ConfigError.InvalidData([], "Expected a 32-byte key encoded as hex, base64 or base64url"))
  }
  if (bytes.value.length !== keyLength) {
    return Either.left(
      ConfigError.InvalidData(
        [],
        `Expected a 32-byte key encoded as hex, base64 or base64url, but it decodes to ${bytes.value.length} bytes`
      )
    )
  }
  return Either.right(Redacted.make(bytes.value))
}

/**
 * The encryption key from configuration, validated: `ConfigError` when it is missing or not 32 bytes.
 *
 * @since 0.1.0
 * @category config
 */
export const keyConfig = (name: string = defaultConfigName): Config.Config<Redacted.Redacted<Uint8Array>> =>
  // Nested outside `mapOrFail` so that a validation error names the variable.
  Config.nested(Config.mapOrFail(Config.redacted(), parseKey), name)

/**
 * An AES-256-GCM cipher for a validated key. Each value gets a fresh random 12-byte IV; the 16-byte
 * authentication tag makes any change to the stored value (or a wrong key) fail decryption instead of yielding
 * garbage. Stored form: `enc:v1:<base64url(iv | tag | ciphertext)>`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeAesGcm = (key: Redacted.Redacted<Uint8Array>): Service => ({
  encrypted: true,
  encrypt: (plaintext) =>
    Effect.try({
      try: () => {
        const iv = Crypto.randomBytes(ivLength)
        const cipher = Crypto.createCipheriv(algorithm, Redacted.value(key), iv, { authTagLength: tagLength })
        const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()])
        return prefix + Encoding.encodeBase64Url(Buffer.concat([iv, cipher.getAuthTag(), ciphertext]))
      },
      catch: () => fail("encrypt", "AES-256-GCM encryption failed")
    }),
  decrypt: (stored) => {
    if (!stored.startsWith(prefix)) {
      return Effect.fail(
        fail(
          "decrypt",
          stored.startsWith("enc:")
            ? "the entry uses an unsupported encryption format (this version reads enc:v1)"
            : "the entry is not encrypted but an encryption key is configured; refusing to read it"
        )
      )
    }
    return Either.match(Encoding.decodeBase64Url(stored.slice(prefix.length)), {
      // The decode exception carries the input: keep it out of the error.
      onLeft: () => Effect.fail(fail("decrypt", "the encrypted entry is not valid base64url")),
      onRight: (bytes) =>
        bytes.length < ivLength + tagLength
          ? Effect.fail(fail("decrypt", "the encrypted entry is truncated"))
          : Effect.try({
            try: () => {
              const decipher = Crypto.createDecipheriv(
                algorithm,
                Redacted.value(key),
                bytes.subarray(0, ivLength),
                { authTagLength: tagLength }
              )
              decipher.setAuthTag(bytes.subarray(ivLength, ivLength + tagLength))
              return Buffer.concat([decipher.update(bytes.subarray(ivLength + tagLength)), decipher.final()])
                .toString("utf8")
            },
            catch: () => fail("decrypt", "decryption failed: wrong key, or the entry was tampered with")
          })
    })
  }
})

/**
 * An AES-256-GCM cipher for a key written as hex, base64 or base64url.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (key: Redacted.Redacted<string>): Effect.Effect<Service, ConfigError.ConfigError> =>
  Effect.map(parseKey(key), makeAesGcm)

/**
 * Stores entries as they are. Refuses to read an encrypted entry, so that forgetting the key fails loudly.
 *
 * @since 0.1.0
 * @category constructors
 */
export const plaintext: Service = {
  encrypted: false,
  encrypt: Effect.succeed,
  decrypt: (stored) =>
    stored.startsWith("enc:")
      ? Effect.fail(fail("decrypt", "the entry is encrypted but no encryption key is configured (TokenCipher)"))
      : Effect.succeed(stored)
}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (key: Redacted.Redacted<string>): Layer.Layer<TokenCipher, ConfigError.ConfigError> =>
  Layer.effect(TokenCipher, make(key))

/**
 * The key from configuration: `config` when given, otherwise `keyConfig()` (`DROPBOX_SIGN_TOKEN_ENCRYPTION_KEY`).
 *
 * @since 0.1.0
 * @category layers
 * @example
 * ```ts
 * import { TokenCipher, TokenStore } from "@dropbox-sign-effect/oauth"
 * import { NodeContext } from "@effect/platform-node"
 * import { Layer } from "effect"
 *
 * const StoreLive = TokenStore.layerFileSystem("./tokens", { encrypted: true }).pipe(
 *   Layer.provide([TokenCipher.layerConfig(), NodeContext.layer])
 * )
 * ```
 */
export const layerConfig = (
  config?: Config.Config<Redacted.Redacted<string>> | undefined
): Layer.Layer<TokenCipher, ConfigError.ConfigError> =>
  Layer.effect(
    TokenCipher,
    Effect.map(config === undefined ? keyConfig() : Config.mapOrFail(config, parseKey), makeAesGcm)
  )

/**
 * @since 0.1.0
 * @category layers
 */
export const layerPlaintext: Layer.Layer<TokenCipher> = Layer.succeed(TokenCipher, plaintext)

/**
 * A fresh random key, base64url-encoded, for `DROPBOX_SIGN_TOKEN_ENCRYPTION_KEY`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const generateKey: Effect.Effect<Redacted.Redacted<string>> = Effect.sync(() =>
  Redacted.make(Encoding.encodeBase64Url(Crypto.randomBytes(keyLength)))
)
