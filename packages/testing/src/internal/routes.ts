/**
 * The fake's endpoints as one `HttpApp`: `/oauth/authorize` (and its consent form), `/oauth/token`,
 * `/oauth/token?refresh`, `/v3/account`, and a 404 for every other path.
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Ref from "effect/Ref"

import type { FakeAccount } from "../FakeDropboxSignApp.js"
import type { SimulatedTransportFault } from "../FakeDropboxSignFault.js"
import * as Authorization from "./authorization.js"
import * as Body from "./body.js"
import * as ConsentPage from "./consentPage.js"
import type { Env } from "./fakeDropboxSign.js"
import * as Grants from "./grants.js"
import * as Random from "./random.js"
import * as Reply from "./reply.js"
import { problemReply, serve } from "./serve.js"
import * as Store from "./store.js"

/** The query of a request URL (path and query, as servers see it). */
const searchParams = (url: string): URLSearchParams => {
  const start = url.indexOf("?")
  return new URLSearchParams(start === -1 ? "" : url.slice(start + 1))
}

// The real endpoint takes a bare flag (`?refresh`); `?refresh=` and `?refresh=1` are the same flag to it.
const hasRefreshFlag = (url: string): boolean => searchParams(url).has("refresh")

const bearerToken = (authorization: string | undefined): string | undefined => {
  const match = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization)
  return match === null ? undefined : match[1]
}

const bearerMessages: Readonly<Record<Store.BearerProblem, string>> = {
  missing: "Unauthorized api key",
  invalid: "Access token is invalid",
  expired: "Access token has expired",
  revoked: "Access token has been revoked"
}

const accountBody = (account: FakeAccount) => ({
  account: {
    account_id: account.accountId,
    email_address: account.emailAddress,
    is_locked: false,
    is_paid_hs: false,
    is_paid_hf: false,
    quotas: {
      api_signature_requests_left: 0,
      documents_left: null,
      templates_total: 0,
      templates_left: 0,
      sms_verifications_left: 0,
      num_fax_pages_left: 0
    },
    callback_url: null,
    role_code: null,
    team_id: null,
    locale: "en-US"
  }
})

const page = (status: number, html: string): Reply.Reply =>
  Reply.raw(status, html, Reply.htmlContentType, ConsentPage.headers)

/** The fake's `HttpApp`. */
export const make = (env: Env): HttpApp.Default<SimulatedTransportFault> => {
  const countConsent = (consented: boolean) => env.log.count(consented ? "consentsGranted" : "consentsDenied")

  const authorize = serve(env, "authorize", (_, request) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const fresh = { code: Random.token(), consentId: Random.token() }
      const outcome = yield* Ref.modify(
        env.store,
        (s) => Authorization.authorize(s, searchParams(request.url), now, fresh, env.defaultShape)
      )
      switch (outcome._tag) {
        case "Problem":
          return problemReply(outcome.problem)
        case "ConsentPage":
          return page(
            200,
            ConsentPage.consent({
              appName: outcome.app.name,
              emailAddress: outcome.account.emailAddress,
              clientId: outcome.app.clientId,
              state: outcome.state,
              consentId: outcome.consentId
            })
          )
        case "Redirect":
          yield* countConsent(outcome.consented)
          return Reply.redirect(outcome.location)
      }
    }))

  // The consent page's form. Faults queued on "authorize" are for the page's GET, so none is taken here; the form is
  // logged on its path's route and counted only in `requests`: `authorizeRequests` counts authorization requests.
  const answerConsent = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const body = yield* Body.read(request)
    yield* env.log.record({ route: "authorize", counter: undefined, request, body, fault: undefined })
    const now = yield* Clock.currentTimeMillis
    const code = Random.token()
    const outcome = yield* Ref.modify(env.store, (s) => Authorization.answerConsent(s, body.fields, now, code))
    if (outcome._tag === "Refused") {
      yield* env.log.count("rejected")
      const { message, status } = outcome.refusal
      return Reply.render(page(status, ConsentPage.error(status, message)))
    }
    yield* countConsent(outcome.consented)
    return Reply.render(Reply.redirect(outcome.location))
  })

  const issueTokens = (route: "token" | "refresh", fields: Readonly<Record<string, unknown>>) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const fresh = Random.tokenValues()
      const transition = route === "refresh" ? Grants.refresh : Grants.exchangeCode
      const result = yield* Ref.modify(env.store, (s) => transition(s, fields, now, fresh, env.defaultShape))
      if (Either.isLeft(result)) return problemReply(result.left)
      yield* env.log.count(route === "refresh" ? "refreshesServed" : "codesExchanged")
      const issued = result.right
      return Reply.json(200, {
        access_token: issued.accessToken,
        token_type: "Bearer",
        refresh_token: issued.refreshToken,
        expires_in: issued.expiresIn,
        state: issued.state
      })
    })

  const token = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const route = hasRefreshFlag(request.url) ? "refresh" : "token"
    return serve(env, route, (body) => issueTokens(route, body.fields))
  })

  const account = serve(env, "account", (_, request) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const result = Store.bearer(yield* Ref.get(env.store), bearerToken(request.headers["authorization"]), now)
      if (Either.isRight(result)) return Reply.json(200, accountBody(result.right))
      return Reply.error({
        status: 401,
        shape: "dropbox",
        errorName: "unauthorized",
        errorMsg: bearerMessages[result.left],
        headers: { "www-authenticate": `Bearer error="invalid_token"` }
      })
    }))

  const notFound = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const body = Body.empty(request.headers["content-type"])
    yield* env.log.record({ route: undefined, counter: undefined, request, body, fault: undefined })
    return Reply.render(Reply.error({
      status: 404,
      shape: "dropbox",
      errorName: "not_found",
      errorMsg: `No route for ${request.method} ${request.url.split("?")[0]}`
    }))
  })

  return HttpRouter.empty.pipe(
    HttpRouter.get("/oauth/authorize", authorize),
    HttpRouter.post("/oauth/authorize", answerConsent),
    HttpRouter.post("/oauth/token", token),
    HttpRouter.get("/v3/account", account),
    Effect.catchTag("RouteNotFound", () => notFound)
  )
}
