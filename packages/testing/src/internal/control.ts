/**
 * The fake's control service: registering apps and accounts, shaping the next authorizations, revoking and expiring,
 * queuing faults, and reading the log, the counters and the grants.
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"

import type { Service } from "../FakeDropboxSign.js"
import type { AccountOptions, AppOptions, FakeAccount, FakeApp, GrantInfo } from "../FakeDropboxSignApp.js"
import { defaultAccount, defaultApp } from "../FakeDropboxSignApp.js"
import type { Env } from "./fakeDropboxSign.js"
import * as Random from "./random.js"
import * as Store from "./store.js"

const toRedacted = (secret: string | Redacted.Redacted<string>): Redacted.Redacted<string> =>
  Redacted.isRedacted(secret) ? secret : Redacted.make(secret)

const optionalDuration = (
  input: Duration.DurationInput | undefined,
  fallback: Duration.Duration | undefined
): Duration.Duration | undefined => input === undefined ? fallback : Duration.decode(input)

/** `base` with every option that is set applied. */
export const applyOptions = (base: FakeApp, options: AppOptions): FakeApp => ({
  clientId: options.clientId ?? base.clientId,
  name: options.name ?? base.name,
  clientSecret: options.clientSecret === undefined ? base.clientSecret : toRedacted(options.clientSecret),
  // Fails here, at registration, rather than at the first redirect.
  callbackUrl: new URL(options.callbackUrl ?? base.callbackUrl).toString(),
  accessTokenTtl: optionalDuration(options.accessTokenTtl, base.accessTokenTtl) ?? base.accessTokenTtl,
  refreshTokenTtl: optionalDuration(options.refreshTokenTtl, base.refreshTokenTtl),
  codeTtl: optionalDuration(options.codeTtl, base.codeTtl) ?? base.codeTtl,
  rotateRefreshTokens: options.rotateRefreshTokens ?? base.rotateRefreshTokens,
  requireClientCredentialsOnRefresh: options.requireClientCredentialsOnRefresh ??
    base.requireClientCredentialsOnRefresh,
  errorShape: options.errorShape ?? base.errorShape,
  consent: options.consent ?? base.consent
})

/** `defaultAccount` with every option that is set applied. */
export const firstAccount = (options: AccountOptions): FakeAccount => ({
  accountId: options.accountId ?? defaultAccount.accountId,
  emailAddress: options.emailAddress ?? defaultAccount.emailAddress,
  name: options.name ?? defaultAccount.name
})

/** The control service of the fake whose state is `env`. */
export const make = (env: Env): Service => ({
  registerApp: (appOptions = {}) =>
    Effect.gen(function*() {
      const base: FakeApp = {
        ...defaultApp,
        clientId: Random.hex(14),
        clientSecret: Redacted.make(Random.hex(14))
      }
      const registered = applyOptions(base, appOptions)
      yield* Ref.update(env.store, (s) => Store.putApp(s, registered))
      return registered
    }),
  updateApp: (clientId, update) =>
    Ref.modify(env.store, (s) => {
      const current = Store.findApp(s, clientId)
      if (current === undefined) return [undefined, s] as const
      const updated = applyOptions(current, { ...update, clientId })
      return [updated, Store.putApp(s, updated)] as const
    }).pipe(Effect.flatMap(Effect.fromNullable)),
  registerAccount: (accountOptions = {}) =>
    Effect.gen(function*() {
      const accountId = accountOptions.accountId ?? Random.hex(20)
      const registered: FakeAccount = {
        accountId,
        emailAddress: accountOptions.emailAddress ?? `user-${accountId.slice(0, 8)}@example.com`,
        name: accountOptions.name
      }
      yield* Ref.update(env.store, (s) => Store.putAccount(s, registered))
      return registered
    }),
  signIn: (accountId) =>
    Ref.modify(env.store, (s) => Store.signIn(s, accountId)).pipe(
      Effect.flatMap((found) => found ? Effect.void : new Cause.NoSuchElementException(`No account ${accountId}`))
    ),
  issueCode: (codeOptions) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const code = Random.token()
      const result = yield* Ref.modify(env.store, (s): readonly [
        Either.Either<Redacted.Redacted<string>, Cause.NoSuchElementException>,
        Store.Store
      ] => {
        const issued = Store.issueCode(
          s,
          {
            clientId: codeOptions.clientId ?? env.firstApp.clientId,
            accountId: codeOptions.accountId ?? s.signedIn,
            state: codeOptions.state
          },
          now,
          code
        )
        return Either.isRight(issued) ?
          [Either.right(Redacted.make(code)), issued.right] as const :
          [Either.left(new Cause.NoSuchElementException(`No such ${issued.left}`)), s] as const
      })
      return yield* result
    }),
  denyNextConsent: Ref.update(env.store, Store.denyNext),
  revokeGrant: (filter = {}) => Ref.modify(env.store, (s) => Store.revokeGrants(s, filter)),
  expireAllTokens: Effect.flatMap(
    Clock.currentTimeMillis,
    (now) => Ref.update(env.store, (s) => Store.expireAccessTokens(s, now))
  ),
  injectFault: (route, fault, times = 1) => env.faults.inject(route, fault, times),
  clearFaults: env.faults.clear,
  requests: env.log.requests,
  counters: env.log.counters,
  grants: Effect.map(Ref.get(env.store), (s) =>
    Store.grantSnapshots(s).map((grant): GrantInfo => ({
      ...grant,
      refreshToken: Redacted.make(grant.refreshToken)
    }))),
  resetLog: env.log.reset
})
