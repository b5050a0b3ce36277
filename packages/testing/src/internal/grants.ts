/**
 * The token endpoint's transitions over the fake's `Store`: the authorization-code exchange and the refresh, which
 * share one validation of the grant type and the client credentials.
 */
import * as Either from "effect/Either"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

import type { FakeApp } from "../FakeDropboxSignApp.js"
import { stringField } from "./body.js"
import type { ErrorShape } from "./reply.js"
import type { Problem, Store, Transition } from "./store.js"
import { badRequest, invalidClient, invalidGrant, ttlMillis, unsupportedGrantType } from "./store.js"

/** A token pair as the endpoint returns it. */
export interface Issued {
  readonly accessToken: string
  readonly refreshToken: string
  readonly expiresIn: number
  readonly state: string | null
}

/** Random values drawn before a transition, which must stay pure. */
export interface Fresh {
  readonly grantId: string
  readonly accessToken: string
  readonly refreshToken: string
}

// Whole seconds, rounded down, so a client computing expiry from `expires_in` never thinks a token lives longer.
const expiresIn = (app: FakeApp): number => Math.floor(ttlMillis(app.accessTokenTtl) / 1000)

const refreshExpiry = (app: FakeApp, now: number): number | undefined =>
  app.refreshTokenTtl === undefined ? undefined : now + ttlMillis(app.refreshTokenTtl)

const secretMatches = (app: FakeApp, secret: string): boolean => Redacted.value(app.clientSecret) === secret

const fail = Either.left

/** The client a token request names, once its grant type and whatever credentials it sent are checked. */
interface Client {
  readonly clientId: string | undefined
  readonly secret: string | undefined
  /** The app `client_id` names; `undefined` when the request names none. */
  readonly app: FakeApp | undefined
  readonly shape: ErrorShape
}

/**
 * The checks both grants start with: the grant type, then the credentials that were sent (an unknown `client_id`, a
 * wrong `client_secret`). Which credentials are required differs by grant, so absent ones are left to the caller.
 */
const checkClient = (
  store: Store,
  fields: Readonly<Record<string, unknown>>,
  grantType: "authorization_code" | "refresh_token",
  defaultShape: ErrorShape
): Either.Either<Client, Problem> => {
  const received = stringField(fields, "grant_type")
  const clientId = stringField(fields, "client_id")
  const secret = stringField(fields, "client_secret")
  const app = clientId === undefined ? undefined : Option.getOrUndefined(HashMap.get(store.apps, clientId))
  const shape = app?.errorShape ?? defaultShape
  if (received === undefined) return fail(badRequest(shape, "grant_type", "Missing parameter: grant_type"))
  if (received !== grantType) {
    return fail(
      unsupportedGrantType(shape, "grant_type", `Unsupported grant_type on this endpoint: ${received}`)
    )
  }
  if (clientId !== undefined && app === undefined) {
    return fail(invalidClient(shape, "client_id", "Invalid client_id"))
  }
  if (app !== undefined && secret !== undefined && !secretMatches(app, secret)) {
    return fail(invalidClient(shape, "client_secret", "Invalid client_secret"))
  }
  return Either.right({ clientId, secret, app, shape })
}

/** What a grant's own checks and effects see. */
interface GrantRequest {
  readonly store: Store
  readonly fields: Readonly<Record<string, unknown>>
  readonly client: Client
  readonly now: number
  readonly fresh: Fresh
  readonly defaultShape: ErrorShape
}

/** A token endpoint transition. */
export type Grant = (
  store: Store,
  fields: Readonly<Record<string, unknown>>,
  now: number,
  fresh: Fresh,
  defaultShape: ErrorShape
) => Transition<Either.Either<Issued, Problem>>

/** A grant: `checkClient`, then `issue`; a refusal at any step leaves the store as it was. */
const grant = (
  grantType: "authorization_code" | "refresh_token",
  issue: (request: GrantRequest) => Either.Either<Transition<Issued>, Problem>
): Grant =>
(store, fields, now, fresh, defaultShape) => {
  const result = Either.flatMap(
    checkClient(store, fields, grantType, defaultShape),
    (client) => issue({ store, fields, client, now, fresh, defaultShape })
  )
  return Either.isRight(result) ? [Either.right(result.right[0]), result.right[1]] : [Either.left(result.left), store]
}

/** `POST /oauth/token` with `grant_type=authorization_code`. */
export const exchangeCode: Grant = grant("authorization_code", ({ client, fields, fresh, now, store }) => {
  const { app, secret, shape } = client
  if (app === undefined) return fail(badRequest(shape, "client_id", "Missing parameter: client_id"))
  if (secret === undefined) return fail(badRequest(shape, "client_secret", "Missing parameter: client_secret"))
  const code = stringField(fields, "code")
  if (code === undefined) return fail(badRequest(shape, "code", "Missing parameter: code"))
  const state = stringField(fields, "state")
  if (state === undefined) return fail(badRequest(shape, "state", "Missing parameter: state"))
  const record = Option.getOrUndefined(HashMap.get(store.codes, code))
  if (record === undefined || record.clientId !== app.clientId) {
    return fail(invalidGrant(shape, "code", "Invalid authorization code"))
  }
  if (record.used) return fail(invalidGrant(shape, "code", "Authorization code has already been used"))
  if (now >= record.expiresAt) return fail(invalidGrant(shape, "code", "Authorization code has expired"))
  if (record.state !== state) return fail(invalidGrant(shape, "state", "State does not match the authorization"))
  return Either.right([
    { accessToken: fresh.accessToken, refreshToken: fresh.refreshToken, expiresIn: expiresIn(app), state },
    {
      ...store,
      codes: HashMap.set(store.codes, code, { ...record, used: true }),
      grants: HashMap.set(store.grants, fresh.grantId, {
        clientId: app.clientId,
        accountId: record.accountId,
        revoked: false
      }),
      accessTokens: HashMap.set(store.accessTokens, fresh.accessToken, {
        grantId: fresh.grantId,
        expiresAt: now + ttlMillis(app.accessTokenTtl)
      }),
      refreshTokens: HashMap.set(store.refreshTokens, fresh.refreshToken, {
        grantId: fresh.grantId,
        expiresAt: refreshExpiry(app, now),
        retired: false
      })
    }
  ])
})

/** `POST /oauth/token?refresh` with `grant_type=refresh_token`. */
export const refresh: Grant = grant("refresh_token", ({ client, defaultShape, fields, fresh, now, store }) => {
  const { app: named, clientId, secret } = client
  const token = stringField(fields, "refresh_token")
  if (token === undefined) return fail(badRequest(client.shape, "refresh_token", "Missing parameter: refresh_token"))
  const record = Option.getOrUndefined(HashMap.get(store.refreshTokens, token))
  const grant = record === undefined ? undefined : Option.getOrUndefined(HashMap.get(store.grants, record.grantId))
  const app = grant === undefined ? undefined : Option.getOrUndefined(HashMap.get(store.apps, grant.clientId))
  // Without a client id, the app is known only from the token: its shape is the one its errors take.
  const shape = named?.errorShape ?? app?.errorShape ?? defaultShape
  if (record === undefined || grant === undefined || app === undefined) {
    return fail(invalidGrant(shape, "refresh_token", "Invalid refresh token"))
  }
  if (named !== undefined && named.clientId !== app.clientId) {
    return fail(invalidGrant(shape, "refresh_token", "Refresh token was not issued to this client"))
  }
  if (record.retired) return fail(invalidGrant(shape, "refresh_token", "Refresh token has been rotated"))
  if (grant.revoked) return fail(invalidGrant(shape, "refresh_token", "Grant has been revoked"))
  if (record.expiresAt !== undefined && now >= record.expiresAt) {
    return fail(invalidGrant(shape, "refresh_token", "Refresh token has expired"))
  }
  if (app.requireClientCredentialsOnRefresh) {
    if (clientId === undefined) return fail(invalidClient(shape, "client_id", "Client credentials are required"))
    if (secret === undefined) return fail(invalidClient(shape, "client_secret", "Client credentials are required"))
  } else if (named === undefined && secret !== undefined && !secretMatches(app, secret)) {
    return fail(invalidClient(shape, "client_secret", "Invalid client_secret"))
  }
  const rotate = app.rotateRefreshTokens
  const refreshToken = rotate ? fresh.refreshToken : token
  const refreshTokens = rotate ?
    HashMap.set(HashMap.set(store.refreshTokens, token, { ...record, retired: true }), fresh.refreshToken, {
      grantId: record.grantId,
      expiresAt: refreshExpiry(app, now),
      retired: false
    }) :
    store.refreshTokens
  return Either.right([
    { accessToken: fresh.accessToken, refreshToken, expiresIn: expiresIn(app), state: null },
    {
      ...store,
      accessTokens: HashMap.set(store.accessTokens, fresh.accessToken, {
        grantId: record.grantId,
        expiresAt: now + ttlMillis(app.accessTokenTtl)
      }),
      refreshTokens
    }
  ])
})
