/**
 * The `state` parameter of the authorization step: made unguessable, compared in constant time, and checked on the
 * callback before any code is exchanged.
 *
 * @since 0.1.0
 */
import * as crypto from "node:crypto"

import { Effect, Either, Redacted } from "effect"

import { AuthorizationDeniedError, type CallbackError, InvalidCallbackError, StateMismatchError } from "./TokenError.js"

/**
 * A new state: 32 random bytes, base64url.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<string> = Effect.sync(() => crypto.randomBytes(32).toString("base64url"))

// UTF-16 code units, not UTF-8: UTF-8 encodes every lone surrogate as U+FFFD, so distinct strings would compare equal.
const digest = (value: string): Buffer => crypto.createHash("sha256").update(value, "utf16le").digest()

/**
 * Whether `received` equals `expected`, in time independent of where they differ. Both sides are hashed first so
 * that their lengths are equal and the length of the expected state does not leak either.
 *
 * @since 0.1.0
 * @category utils
 */
export const verify = (expected: string, received: string): boolean =>
  crypto.timingSafeEqual(digest(expected), digest(received)) && expected.length > 0

/**
 * What the callback URL carries on success. The code is single-use and secret, so it stays `Redacted`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Callback {
  readonly code: Redacted.Redacted<string>
  readonly state: string
}

/**
 * Reads the callback URL that Dropbox Sign redirected the user to, and checks its `state` against `expectedState`.
 * Fails with `AuthorizationDeniedError` when it carries `error`, `InvalidCallbackError` when `code` or `state` is
 * missing, `StateMismatchError` when the state differs.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseCallback = (
  url: string | URL,
  expectedState: string
): Either.Either<Callback, CallbackError> => {
  let parsed: URL
  try {
    parsed = typeof url === "string" ? new URL(url, "http://callback.invalid") : url
  } catch {
    return Either.left(new InvalidCallbackError({ reason: "the callback URL cannot be parsed" }))
  }
  const params = parsed.searchParams
  const error = params.get("error")
  const state = params.get("state")
  if (error !== null) {
    // A denial is reported only for the request this application made; an attacker's forged denial is a mismatch.
    if (state === null || !verify(expectedState, state)) return Either.left(new StateMismatchError())
    const description = params.get("error_description")
    return Either.left(
      new AuthorizationDeniedError({ error, ...(description === null ? {} : { errorDescription: description }) })
    )
  }
  if (state === null || state === "") return Either.left(new InvalidCallbackError({ reason: "state is missing" }))
  if (!verify(expectedState, state)) return Either.left(new StateMismatchError())
  const code = params.get("code")
  if (code === null || code === "") return Either.left(new InvalidCallbackError({ reason: "code is missing" }))
  return Either.right({ code: Redacted.make(code), state })
}
