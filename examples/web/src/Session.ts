/**
 * The example's stand-in for a real sign-in: the first visit gets a random session cookie and a new user id. The
 * session token is a credential and stays in the cookie; the user id is what names the Dropbox Sign account.
 */
import * as Crypto from "node:crypto"

import { AccountId } from "@dropbox-sign-effect/oauth"
import type { HttpServerRequest } from "@effect/platform"
import { HttpServerResponse } from "@effect/platform"
import { Context, Data, Effect, HashMap, Layer, Option, Ref } from "effect"

const cookieName = "example_session"

/** No session: the user has not visited the home page yet (or the server restarted). */
export class NotSignedIn extends Data.TaggedError("NotSignedIn")<{}> {}

export class Sessions extends Context.Tag("example-web/Sessions")<Sessions, {
  /** The signed-in user, if the request carries a known session. */
  readonly current: (request: HttpServerRequest.HttpServerRequest) => Effect.Effect<Option.Option<AccountId.AccountId>>
  /** Starts a session for a new user; `withCookie` puts its cookie on the response. */
  readonly start: Effect.Effect<{
    readonly user: AccountId.AccountId
    readonly withCookie: (response: HttpServerResponse.HttpServerResponse) => HttpServerResponse.HttpServerResponse
  }>
}>() {}

export const layer: Layer.Layer<Sessions> = Layer.effect(
  Sessions,
  Effect.map(Ref.make(HashMap.empty<string, AccountId.AccountId>()), (sessions) =>
    Sessions.of({
      current: (request) =>
        Option.match(Option.fromNullable(request.cookies[cookieName]), {
          onNone: () => Effect.succeedNone,
          onSome: (token) => Effect.map(Ref.get(sessions), HashMap.get(token))
        }),
      start: Effect.gen(function*() {
        const token = Crypto.randomBytes(32).toString("base64url")
        const user = AccountId.make(`user-${Crypto.randomBytes(6).toString("hex")}`)
        yield* Ref.update(sessions, HashMap.set(token, user))
        return {
          user,
          // A real application behind https would add `secure: true`.
          withCookie: (response: HttpServerResponse.HttpServerResponse) =>
            HttpServerResponse.unsafeSetCookie(response, cookieName, token, {
              httpOnly: true,
              sameSite: "lax",
              path: "/"
            })
        }
      })
    }))
)

/** `resolveAccount` for the authorization routes: the signed-in user, or `NotSignedIn`. */
export const resolveAccount = (
  request: HttpServerRequest.HttpServerRequest
): Effect.Effect<AccountId.AccountId, NotSignedIn, Sessions> =>
  Effect.flatMap(Sessions, (sessions) => sessions.current(request)).pipe(
    Effect.flatMap(Option.match({ onNone: () => Effect.fail(new NotSignedIn()), onSome: Effect.succeed }))
  )
