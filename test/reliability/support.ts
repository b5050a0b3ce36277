/**
 * Shared wiring and invariants of the reliability suite: layers over the in-memory `FakeDropboxSign` (rotation on),
 * clock-measured runs, and the checks every scenario ends with — no authorization code re-sent after an
 * outcome-unknown failure, and a stored refresh token that the fake still accepts unless the account is marked for
 * re-authorization for a documented reason.
 */
import type { OAuthConfig, TokenError, TokenManager, TokenStore } from "@dropbox-sign-effect/oauth"
import { AccountId } from "@dropbox-sign-effect/oauth"
import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import type { Exit } from "effect"
import { Cause, Clock, Effect, FastCheck as fc, Option, Predicate, Redacted, Runtime } from "effect"

import * as Harness from "../lifecycle/harness.js"

/** Every scenario runs against a fake that rotates refresh tokens: the case where losing one is possible at all. */
export const fakeOptions: FakeDropboxSign.Options = { defaultApp: { rotateRefreshTokens: true } }

/** The manager's configuration: the fake's credentials, the default timeout (10 s) and retry policy, no jitter. */
export const config = Harness.config

/** A manager (background refresher off unless asked for) over the `TokenStore` and `HttpClient` in context. */
export const managerLayer = (
  options: TokenManager.Options = {},
  configOptions: Partial<OAuthConfig.Options> = {}
): ReturnType<typeof Harness.managerLayer> => Harness.managerLayer({ manager: options, config: configOptions })

/** A manager over a memory store and a rotating in-memory fake. */
export const memoryLayer = (options: TokenManager.Options = {}): ReturnType<typeof Harness.layer> =>
  Harness.layer({ manager: options, fake: fakeOptions })

export const account = AccountId.defaultAccount

/** Authorizes an account as the consent step would, skipping the browser. */
export { connect } from "../lifecycle/harness.js"

/** What an effect did, measured on the `Clock` inside its own fiber (so the step size of the driver does not count). */
export interface Timed<A, E> {
  readonly exit: Exit.Exit<A, E>
  readonly elapsedMillis: number
}

export const timed = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<Timed<A, E>, never, R> =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const exit = yield* Effect.exit(effect)
    const end = yield* Clock.currentTimeMillis
    return { exit, elapsedMillis: end - start }
  })

/** The `_tag` of a failure, `"Ok"` for a success, and `"Defect"` / `"Interrupted"` for what must never happen. */
export const outcomeTag = <A, E>(exit: Exit.Exit<A, E>): string => {
  if (exit._tag === "Success") return "Ok"
  const cause = exit.cause
  if (Cause.isDie(cause)) return "Defect"
  if (Cause.isInterruptedOnly(cause)) return "Interrupted"
  return Option.match(Cause.failureOption(cause), { onNone: () => "Defect", onSome: tagOf })
}

const tagOf = (error: unknown): string =>
  Predicate.hasProperty(error, "_tag") && Predicate.isString(error._tag) ? error._tag : "Fail"

const plain = (value: unknown): string | undefined => {
  if (Redacted.isRedacted(value)) {
    const inner: unknown = Redacted.value(value)
    return Predicate.isString(inner) ? inner : undefined
  }
  return Predicate.isString(value) ? value : undefined
}

/**
 * Authorization codes sent more than once: code → how many token requests carried it, for each code sent twice or
 * more. A repeat is allowed only after answers that prove the code was not used (a 429, a gateway 502/503/504).
 */
export const repeatedCodes = (requests: ReadonlyArray<FakeDropboxSign.LoggedRequest>): ReadonlyMap<string, number> => {
  const counts = new Map<string, number>()
  for (const request of requests) {
    if (request.route !== "token") continue
    const code = plain(request.body["code"])
    if (code === undefined) continue
    counts.set(code, (counts.get(code) ?? 0) + 1)
  }
  return new Map([...counts].filter(([, n]) => n > 1))
}

/** The documented reason for a re-authorization that no client could avoid. */
export const lostAnswer = "an outcome-unknown refresh rotated the token on the server and its answer was lost"

/**
 * Why an account may be marked `reauthorization_required`, as the manager words it. Anything else is unexplained.
 */
export const documentedReasons: ReadonlyArray<{ readonly why: string; readonly pattern: RegExp }> = [
  {
    why: lostAnswer,
    pattern:
      /^Dropbox Sign refused the refresh token \(Dropbox Sign answered 400 invalid_grant: Refresh token has been rotated/
  },
  {
    why: "the server refused the grant (invalid_grant)",
    pattern: /^Dropbox Sign refused the refresh token \(Dropbox Sign answered 400 invalid_grant: /
  },
  {
    why: "the grant was revoked",
    pattern: /^Dropbox Sign refused the refresh token \(.*Grant has been revoked/
  }
]

export const explain = (reason: string | undefined): string | undefined =>
  reason === undefined ? undefined : documentedReasons.find(({ pattern }) => pattern.test(reason))?.why

/** What the store holds for `who` next to what the fake accepts. */
export interface RefreshTokenState {
  readonly stored: Option.Option<TokenStore.StoredToken>
  /** The current refresh token of every grant that is not revoked. */
  readonly accepted: ReadonlyArray<{ readonly grantId: string; readonly refreshToken: string }>
}

export const refreshTokenState = (
  store: TokenStore.Service,
  who: AccountId.AccountId = account
): Effect.Effect<RefreshTokenState, TokenError.TokenStoreError, FakeDropboxSign.FakeDropboxSign> =>
  Effect.gen(function*() {
    const fake = yield* FakeDropboxSign.FakeDropboxSign
    const stored = yield* store.get(who)
    const grants = yield* fake.grants
    return {
      stored,
      accepted: grants.filter((grant) => !grant.revoked).map((grant) => ({
        grantId: grant.grantId,
        refreshToken: Redacted.value(grant.refreshToken)
      }))
    }
  })

/**
 * The storage invariant: the stored refresh token is one the fake accepts and the account is active, or the account
 * is marked for re-authorization with a documented reason. Returns a description of the violation, if any.
 */
export const storageViolation = (state: RefreshTokenState, grantId?: string | undefined): string | undefined => {
  if (Option.isNone(state.stored)) return "nothing is stored"
  const entry = state.stored.value
  const refreshToken = Redacted.value(entry.token.refreshToken)
  if (entry.status === "reauthorization_required") {
    return explain(entry.statusReason) === undefined ?
      `marked for re-authorization without a documented reason: ${entry.statusReason ?? "(none)"}` :
      undefined
  }
  const current = grantId === undefined ?
    state.accepted.some((grant) => grant.refreshToken === refreshToken) :
    state.accepted.some((grant) => grant.grantId === grantId && grant.refreshToken === refreshToken)
  return current ? undefined : "the stored refresh token is not the one the fake accepts, and the account is active"
}

/**
 * Checks a fast-check property whose samples are effects, all in the runtime of the calling test (its `TestClock`
 * included). `it.effect.prop` builds a fresh test context per sample, about 10 ms each: a third of the budget of the
 * crash-restart property. Samples here share the clock, which only ever moves forward; each builds its own fake and
 * services. A failing sample rejects, so fast-check shrinks it and reports the counterexample with the failure.
 */
export const checkProperty = <A>(
  arbitrary: fc.Arbitrary<A>,
  predicate: (value: A) => Effect.Effect<void>,
  parameters: fc.Parameters<[A]> = {}
): Effect.Effect<void> =>
  Effect.flatMap(
    Effect.runtime<never>(),
    (runtime) =>
      Effect.promise(() =>
        fc.assert(fc.asyncProperty(arbitrary, (value) => Runtime.runPromise(runtime)(predicate(value))), parameters)
      )
  )
