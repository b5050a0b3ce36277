/**
 * The browser step, `/oauth/authorize`, as pure transitions over the fake's `Store`: the automatic answers (allow or
 * deny at once) and the consent page, whose form comes back as a `POST` carrying a one-time consent id.
 */
import * as Either from "effect/Either"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"

import type { FakeAccount, FakeApp } from "../FakeDropboxSignApp.js"
import { stringField } from "./body.js"
import type { ErrorShape } from "./reply.js"
import type { Problem, Store, Transition } from "./store.js"
import { badRequest, issueCode } from "./store.js"

/** Random values drawn before the transition, which must stay pure. */
export interface AuthorizeFresh {
  readonly code: string
  readonly consentId: string
}

/** A redirect to the app's callback URL. */
export interface Redirect {
  readonly _tag: "Redirect"
  readonly location: string
  readonly consented: boolean
}

/** What `GET /oauth/authorize` answers. */
export type AuthorizeOutcome =
  | Redirect
  | {
    readonly _tag: "ConsentPage"
    readonly app: FakeApp
    readonly account: FakeAccount
    readonly state: string
    readonly consentId: string
  }
  | { readonly _tag: "Problem"; readonly problem: Problem }

const callback = (app: FakeApp, params: Readonly<Record<string, string>>): string => {
  const url = new URL(app.callbackUrl)
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value)
  return url.toString()
}

const deny = (app: FakeApp, state: string): Redirect => ({
  _tag: "Redirect",
  location: callback(app, { error: "access_denied", state }),
  consented: false
})

/** Issues a code for the grant; fails when its account no longer exists. */
const allow = (
  store: Store,
  app: FakeApp,
  grant: { readonly accountId: string; readonly state: string },
  now: number,
  code: string
): Either.Either<Transition<Redirect>, "app" | "account"> =>
  Either.map(
    issueCode(store, { clientId: app.clientId, accountId: grant.accountId, state: grant.state }, now, code),
    (next) => [{ _tag: "Redirect", location: callback(app, { code, state: grant.state }), consented: true }, next]
  )

/** `GET /oauth/authorize`: the signed-in account answers at once, or is shown the consent page. */
export const authorize = (
  store: Store,
  query: URLSearchParams,
  now: number,
  fresh: AuthorizeFresh,
  defaultShape: ErrorShape
): Transition<AuthorizeOutcome> => {
  const fail = (p: Problem): Transition<AuthorizeOutcome> => [{ _tag: "Problem", problem: p }, store]
  const clientId = query.get("client_id") ?? ""
  const app = Option.getOrUndefined(HashMap.get(store.apps, clientId))
  if (clientId === "") return fail(badRequest(defaultShape, "client_id", "Missing parameter: client_id"))
  // No redirect for an unknown client: the callback URL is unknown too, so the error is shown to the user.
  if (app === undefined) return fail(badRequest(defaultShape, "client_id", "Invalid client_id"))
  const state = query.get("state") ?? ""
  if (state === "") return fail(badRequest(app.errorShape, "state", "Missing parameter: state"))
  if (query.get("response_type") !== "code") {
    return [{
      _tag: "Redirect",
      location: callback(app, { error: "unsupported_response_type", state }),
      consented: false
    }, store]
  }
  const lostAccount = () => fail(badRequest(app.errorShape, undefined, "The signed-in account no longer exists"))
  // `denyNextConsent` answers before any page is shown, whatever the app's consent mode.
  if (store.denials > 0) return [deny(app, state), { ...store, denials: store.denials - 1 }]
  if (app.consent === "deny") return [deny(app, state), store]
  if (app.consent === "allow") {
    return Either.getOrElse(allow(store, app, { accountId: store.signedIn, state }, now, fresh.code), lostAccount)
  }
  const account = Option.getOrUndefined(HashMap.get(store.accounts, store.signedIn))
  if (account === undefined) return lostAccount()
  return [
    { _tag: "ConsentPage", app, account, state, consentId: fresh.consentId },
    {
      ...store,
      consents: HashMap.set(store.consents, fresh.consentId, {
        clientId: app.clientId,
        accountId: account.accountId,
        state,
        answered: false
      })
    }
  ]
}

/** Why a consent form was refused: shown to the user as an error page. */
export interface ConsentRefusal {
  readonly status: 400 | 403
  readonly message: string
}

/** What `POST /oauth/authorize` answers. */
export type ConsentAnswer = Redirect | { readonly _tag: "Refused"; readonly refusal: ConsentRefusal }

/**
 * `POST /oauth/authorize`: the consent page's form. Its consent id must name a page this fake showed, for the same
 * client and state, and not answered yet; a forged, altered or replayed form is refused and changes nothing.
 */
export const answerConsent = (
  store: Store,
  fields: Readonly<Record<string, unknown>>,
  now: number,
  code: string
): Transition<ConsentAnswer> => {
  const refuse = (status: 400 | 403, message: string): Transition<ConsentAnswer> => [
    { _tag: "Refused", refusal: { status, message } },
    store
  ]
  const decision = stringField(fields, "decision")
  if (decision !== "allow" && decision !== "deny") return refuse(400, "Choose Authorize or Deny.")
  const consentId = stringField(fields, "consent_id")
  if (consentId === undefined) return refuse(400, "The form is missing its consent id.")
  const record = Option.getOrUndefined(HashMap.get(store.consents, consentId))
  const app = record === undefined ? undefined : Option.getOrUndefined(HashMap.get(store.apps, record.clientId))
  if (record === undefined || app === undefined) return refuse(403, "This consent request is not known.")
  if (record.answered) return refuse(403, "This consent request was already answered.")
  if (stringField(fields, "client_id") !== record.clientId || stringField(fields, "state") !== record.state) {
    return refuse(403, "The form does not match its consent request.")
  }
  const answered = (next: Store): Store => ({
    ...next,
    consents: HashMap.set(next.consents, consentId, { ...record, answered: true })
  })
  if (decision === "deny") return [deny(app, record.state), answered(store)]
  const allowed = allow(store, app, record, now, code)
  if (Either.isLeft(allowed)) return refuse(400, "The account that was asked no longer exists.")
  const [redirect, next] = allowed.right
  return [redirect, answered(next)]
}
