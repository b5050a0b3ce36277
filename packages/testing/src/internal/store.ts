/**
 * The fake's state and its transitions, as pure functions over an immutable `Store`. The fake keeps one `Store` in a
 * `Ref` and applies each transition with `Ref.modify`, so a request's checks and effects are atomic: of 1,000
 * concurrent refreshes of one rotating refresh token exactly one wins. The token endpoint's transitions are in
 * `grants.ts`, the browser step's in `authorization.ts`; every change to a `Store` is a function of these modules.
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"

import type { FakeAccount, FakeApp } from "../FakeDropboxSignApp.js"
import type { ErrorShape } from "./reply.js"

/** An authorization code: single-use, bound to a client, an account and the state it was issued with. */
export interface CodeRecord {
  readonly clientId: string
  readonly accountId: string
  readonly state: string
  readonly expiresAt: number
  readonly used: boolean
}

/** One authorization of an app by an account; revoking it kills every token issued under it. */
export interface GrantRecord {
  readonly clientId: string
  readonly accountId: string
  readonly revoked: boolean
}

/** An access token. */
export interface AccessTokenRecord {
  readonly grantId: string
  readonly expiresAt: number
}

/** A refresh token; `retired` once rotation replaced it. */
export interface RefreshTokenRecord {
  readonly grantId: string
  readonly expiresAt: number | undefined
  readonly retired: boolean
}

/** Everything the fake knows. Maps are keyed by the secret values themselves: the store is never logged. */
export interface Store {
  readonly apps: HashMap.HashMap<string, FakeApp>
  readonly accounts: HashMap.HashMap<string, FakeAccount>
  readonly codes: HashMap.HashMap<string, CodeRecord>
  readonly grants: HashMap.HashMap<string, GrantRecord>
  readonly accessTokens: HashMap.HashMap<string, AccessTokenRecord>
  readonly refreshTokens: HashMap.HashMap<string, RefreshTokenRecord>
  /** The account that consents in the browser step. */
  readonly signedIn: string
  /** How many upcoming consents are denied. */
  readonly denials: number
  /** Consent pages shown, by their one-time id; answered ones stay, so a replay is told apart from a forgery. */
  readonly consents: HashMap.HashMap<string, ConsentRecord>
}

/** A consent page that was shown: what its form may answer, once. */
export interface ConsentRecord {
  readonly clientId: string
  readonly accountId: string
  readonly state: string
  readonly answered: boolean
}

/** A store holding one app and one account. */
export const make = (app: FakeApp, account: FakeAccount): Store => ({
  apps: HashMap.make([app.clientId, app]),
  accounts: HashMap.make([account.accountId, account]),
  codes: HashMap.empty(),
  grants: HashMap.empty(),
  accessTokens: HashMap.empty(),
  refreshTokens: HashMap.empty(),
  signedIn: account.accountId,
  denials: 0,
  consents: HashMap.empty()
})

/** An OAuth error answer, renderable in either shape. */
export interface Problem {
  readonly status: number
  readonly errorName: string
  readonly rfcError: string
  readonly errorMsg: string
  readonly errorPath: string | undefined
  readonly shape: ErrorShape
}

const problem = (status: number, errorName: string, rfcError: string) =>
(
  shape: ErrorShape,
  errorPath: string | undefined,
  errorMsg: string
): Problem => ({ status, errorName, rfcError, errorMsg, errorPath, shape })

/** A missing or malformed parameter. */
export const badRequest = problem(400, "bad_request", "invalid_request")
/** Unknown client, or wrong or missing client credentials. */
export const invalidClient = problem(401, "unauthorized", "invalid_client")
/** A code or refresh token that is unknown, used, expired, revoked or someone else's. */
export const invalidGrant = problem(400, "invalid_grant", "invalid_grant")
/** A grant type this endpoint does not take. */
export const unsupportedGrantType = problem(400, "bad_request", "unsupported_grant_type")

/** A transition's outcome and the next store. */
export type Transition<A> = readonly [A, Store]

/** A duration in milliseconds. */
export const ttlMillis = (ttl: Duration.Duration): number => Duration.toMillis(ttl)

/** Stores a new code; fails when the app or account is unknown. */
export const issueCode = (
  store: Store,
  options: { readonly clientId: string; readonly accountId: string; readonly state: string },
  now: number,
  code: string
): Either.Either<Store, "app" | "account"> => {
  const app = Option.getOrUndefined(HashMap.get(store.apps, options.clientId))
  if (app === undefined) return Either.left("app")
  if (!HashMap.has(store.accounts, options.accountId)) return Either.left("account")
  return Either.right({
    ...store,
    codes: HashMap.set(store.codes, code, {
      clientId: app.clientId,
      accountId: options.accountId,
      state: options.state,
      expiresAt: now + ttlMillis(app.codeTtl),
      used: false
    })
  })
}

/** Why a bearer token was refused. */
export type BearerProblem = "missing" | "invalid" | "expired" | "revoked"

/** The account behind a bearer access token. */
export const bearer = (
  store: Store,
  token: string | undefined,
  now: number
): Either.Either<FakeAccount, BearerProblem> => {
  if (token === undefined) return Either.left("missing")
  const record = Option.getOrUndefined(HashMap.get(store.accessTokens, token))
  const grant = record === undefined ? undefined : Option.getOrUndefined(HashMap.get(store.grants, record.grantId))
  if (record === undefined || grant === undefined) return Either.left("invalid")
  if (grant.revoked) return Either.left("revoked")
  if (now >= record.expiresAt) return Either.left("expired")
  return Either.fromOption(HashMap.get(store.accounts, grant.accountId), (): BearerProblem => "invalid")
}

/** Revokes every grant matching both filters (an absent filter matches all); returns how many were revoked. */
export const revokeGrants = (
  store: Store,
  filter: { readonly clientId?: string | undefined; readonly accountId?: string | undefined }
): Transition<number> => {
  let revoked = 0
  const grants = HashMap.map(store.grants, (grant) => {
    const matches = !grant.revoked &&
      (filter.clientId === undefined || grant.clientId === filter.clientId) &&
      (filter.accountId === undefined || grant.accountId === filter.accountId)
    if (!matches) return grant
    revoked++
    return { ...grant, revoked: true }
  })
  return [revoked, { ...store, grants }]
}

/** A grant as `FakeDropboxSign.grants` shows it: the refresh token that is current for it, never a retired one. */
export interface GrantSnapshot {
  readonly grantId: string
  readonly clientId: string
  readonly accountId: string
  readonly refreshToken: string
  readonly revoked: boolean
}

/**
 * Every grant with its current refresh token. Rotation retires the old token as it stores the new one, so each grant
 * has exactly one token that is not retired.
 */
export const grantSnapshots = (store: Store): ReadonlyArray<GrantSnapshot> => {
  const current = new Map<string, string>()
  for (const [token, record] of store.refreshTokens) {
    if (!record.retired) current.set(record.grantId, token)
  }
  const snapshots: Array<GrantSnapshot> = []
  for (const [grantId, grant] of store.grants) {
    const refreshToken = current.get(grantId)
    if (refreshToken === undefined) continue
    snapshots.push({
      grantId,
      clientId: grant.clientId,
      accountId: grant.accountId,
      refreshToken,
      revoked: grant.revoked
    })
  }
  return snapshots
}

/** Ends the life of every access token now; refresh tokens keep working. */
export const expireAccessTokens = (store: Store, now: number): Store => ({
  ...store,
  accessTokens: HashMap.map(store.accessTokens, (token) => ({ ...token, expiresAt: Math.min(token.expiresAt, now) }))
})

/** The app with this client id. */
export const findApp = (store: Store, clientId: string): FakeApp | undefined =>
  Option.getOrUndefined(HashMap.get(store.apps, clientId))

/** Adds or replaces an app. */
export const putApp = (store: Store, app: FakeApp): Store => ({
  ...store,
  apps: HashMap.set(store.apps, app.clientId, app)
})

/** Adds or replaces an account. */
export const putAccount = (store: Store, account: FakeAccount): Store => ({
  ...store,
  accounts: HashMap.set(store.accounts, account.accountId, account)
})

/** Whether the account exists. */
export const hasAccount = (store: Store, accountId: string): boolean => HashMap.has(store.accounts, accountId)

/** Makes `accountId` the account that consents; `false` (and no change) when it is unknown. */
export const signIn = (store: Store, accountId: string): Transition<boolean> =>
  hasAccount(store, accountId) ? [true, { ...store, signedIn: accountId }] : [false, store]

/** Denies one more upcoming authorization. */
export const denyNext = (store: Store): Store => ({ ...store, denials: store.denials + 1 })
