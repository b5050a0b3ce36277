/**
 * Sealed values of the authorization routes (the state cookie, the disconnect proof): AES-256-GCM through
 * `node:crypto`, so that a value is both secret (the account it names stays private) and tamper-evident.
 */
import * as Crypto from "node:crypto"

import { Effect, Either, Encoding, Option, Redacted, Schema } from "effect"

const algorithm = "aes-256-gcm"
const keyLength = 32
const ivLength = 12
const tagLength = 16
const version = "v1."

/** The shortest configured key accepted, in UTF-8 bytes. */
export const minimumKeyBytes = 32

/** Why a configured key is refused, or nothing; never shows the key. */
export const checkKey = (key: Redacted.Redacted<string>): Option.Option<string> => {
  const bytes = Buffer.byteLength(Redacted.value(key), "utf8")
  return bytes >= minimumKeyBytes ?
    Option.none() :
    Option.some(
      `must be at least ${minimumKeyBytes} bytes of random data (it has ${bytes}); ` +
        "generate one with `openssl rand -base64 32`"
    )
}

/**
 * The AES key, derived with HKDF-SHA256 from the configured secret: every long random string works as input, and
 * the key used here is never the one another component may derive from the same secret.
 */
export const deriveKey = (key: Redacted.Redacted<string>): Redacted.Redacted<Uint8Array> =>
  Redacted.make(
    new Uint8Array(
      Crypto.hkdfSync(
        "sha256",
        Buffer.from(Redacted.value(key), "utf8"),
        "dropbox-sign-effect/oauth",
        "AuthorizationRoutes sealed values v1",
        keyLength
      )
    )
  )

/** What a value is for; bound to it as additional authenticated data, so a proof never opens as a state cookie. */
export type Purpose = "state" | "disconnect"

/** The state cookie: the state sent to Dropbox Sign, the account that asked, and when it stops being accepted. */
export const StatePayload = Schema.Struct({ state: Schema.String, account: Schema.String, expiresAt: Schema.Number })

/** The disconnect proof: the account it may disconnect, and when it stops being accepted. */
export const DisconnectPayload = Schema.Struct({ account: Schema.String, expiresAt: Schema.Number })

const seal = (key: Redacted.Redacted<Uint8Array>, purpose: Purpose, plaintext: string): string => {
  const iv = Crypto.randomBytes(ivLength)
  const cipher = Crypto.createCipheriv(algorithm, Redacted.value(key), iv, { authTagLength: tagLength })
  cipher.setAAD(Buffer.from(purpose, "utf8"))
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()])
  return version + Encoding.encodeBase64Url(Buffer.concat([iv, cipher.getAuthTag(), ciphertext]))
}

const open = (key: Redacted.Redacted<Uint8Array>, purpose: Purpose, sealed: string): Option.Option<string> => {
  if (!sealed.startsWith(version)) return Option.none()
  const bytes = Either.getRight(Encoding.decodeBase64Url(sealed.slice(version.length)))
  if (Option.isNone(bytes) || bytes.value.length < ivLength + tagLength) return Option.none()
  try {
    const decipher = Crypto.createDecipheriv(
      algorithm,
      Redacted.value(key),
      bytes.value.subarray(0, ivLength),
      { authTagLength: tagLength }
    )
    decipher.setAAD(Buffer.from(purpose, "utf8"))
    decipher.setAuthTag(bytes.value.subarray(ivLength, ivLength + tagLength))
    return Option.some(
      Buffer.concat([decipher.update(bytes.value.subarray(ivLength + tagLength)), decipher.final()]).toString("utf8")
    )
  } catch {
    // A wrong key or any altered byte: the authentication tag does not verify.
    return Option.none()
  }
}

/** Seals `payload` for `purpose`. */
export const sealWith = <A, I>(schema: Schema.Schema<A, I>) => {
  const encode = Schema.encodeSync(Schema.parseJson(schema))
  return (key: Redacted.Redacted<Uint8Array>, purpose: Purpose, payload: A): Effect.Effect<string> =>
    Effect.sync(() => seal(key, purpose, encode(payload)))
}

/** Opens a sealed value of `purpose`: `None` when it was altered, sealed with another key or for another purpose. */
export const openWith = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknownOption(Schema.parseJson(schema))
  return (key: Redacted.Redacted<Uint8Array>, purpose: Purpose, sealed: string): Option.Option<A> =>
    Option.flatMap(open(key, purpose, sealed), decode)
}
