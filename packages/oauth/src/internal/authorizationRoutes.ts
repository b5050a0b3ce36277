/**
 * The handlers of `AuthorizationRoutes.router`: connect (seal a state into the cookie, redirect to Dropbox Sign),
 * callback (open the cookie, check the state, exchange through `TokenManager.authorize`) and disconnect (check the
 * proof, forget the tokens). Every failure becomes a `Failure`, reaches the hook, and answers a page or a redirect.
 */
import { HttpMiddleware, HttpRouter, HttpServerRequest, HttpServerResponse, UrlParams } from "@effect/platform"
import type { Tracer } from "effect"
import { Clock, Duration, Effect, Either, Option, Predicate } from "effect"

import type * as AccountId from "../AccountId.js"
import type { Failure, Route, RouterOptions, Service } from "../AuthorizationRoutes.js"
import {
  AuthorizationRoutes,
  CrossSiteRequestError,
  disconnectTokenField,
  failureParam,
  StateCookieError
} from "../AuthorizationRoutes.js"
import { OAuthClient } from "../OAuthClient.js"
import * as OAuthState from "../OAuthState.js"
import { TokenManager } from "../TokenManager.js"
import * as Cookie from "./authorizationCookie.js"
import { classify, page, privateHeaders, type RouteError, unauthenticated, withParam } from "./authorizationFailure.js"
import { DisconnectPayload, openWith, sealWith, StatePayload } from "./authorizationSeal.js"

const sealState = sealWith(StatePayload)
const openState = openWith(StatePayload)
const sealDisconnect = sealWith(DisconnectPayload)
const openDisconnect = openWith(DisconnectPayload)

/** The tag of an application error, if it has one: its message may carry anything, so it is never logged. */
const tagOf = (error: unknown): string =>
  Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" ? error._tag : "unknown"

const redirect = (location: string) => HttpServerResponse.redirect(location, { status: 303, headers: privateHeaders })

const withCode = /(^|[?&])code=[^&#]*/g

/** Rewrites `attributes` on the current span and every enclosing one that recorded them. */
const scrubEnclosingSpans = (attributes: Readonly<Record<string, (value: string) => string>>) =>
  Effect.flatMap(Effect.currentSpan, (span) =>
    Effect.sync(() => {
      let current: Option.Option<Tracer.AnySpan> = Option.some(span)
      while (Option.isSome(current) && current.value._tag === "Span") {
        for (const [name, scrub] of Object.entries(attributes)) {
          const value = current.value.attributes.get(name)
          if (typeof value === "string") current.value.attribute(name, scrub(value))
        }
        current = current.value.parent
      }
    })).pipe(Effect.ignore)

/**
 * The server span records the request URL (`url.full`, `url.query`) before any route runs; on a callback that URL
 * carries the authorization code. Every enclosing span that recorded it gets it back without the code.
 */
const withoutCode = (value: string) => value.replace(withCode, "$1code=REDACTED")
const scrubCallbackSpans = scrubEnclosingSpans({ "url.full": withoutCode, "url.query": withoutCode })

/**
 * The platform's tracer middleware records request headers (`http.request.header.*`) and redacts only its own list:
 * the disconnect proof, when it comes as a header, is taken back out.
 */
/**
 * Defined here, not in the public module that re-exports it: that module imports this one, so its constants are not
 * there yet when this module's own constants are made.
 *
 * @internal
 */
export const disconnectTokenHeader = "x-dropbox-sign-disconnect-token"

const scrubDisconnectSpans = scrubEnclosingSpans({
  [`http.request.header.${disconnectTokenHeader}`]: () => "REDACTED"
})

const refuse = (error: RouteError, route: Route) => Effect.fail(classify(route, error))

/** The state this browser was given on connect, if its cookie opens, has not expired, and names an account. */
const expectedState = (settings: Service, request: HttpServerRequest.HttpServerRequest) =>
  Effect.gen(function*() {
    const cookie = request.cookies[settings.cookieName]
    if (cookie === undefined) return yield* refuse(new StateCookieError({ reason: "missing" }), "callback")
    const payload = openState(settings.key, "state", cookie)
    if (Option.isNone(payload)) {
      return yield* refuse(new StateCookieError({ reason: "invalid" }), "callback")
    }
    if ((yield* Clock.currentTimeMillis) >= payload.value.expiresAt) {
      return yield* refuse(new StateCookieError({ reason: "expired" }), "callback")
    }
    return payload.value
  })

/** The proof of a disconnect request: from the header, else from the url-encoded form. */
const disconnectProof = (request: HttpServerRequest.HttpServerRequest) => {
  const header = request.headers[disconnectTokenHeader]
  if (header !== undefined) return Effect.succeed(Option.some(header))
  return request.urlParamsBody.pipe(
    Effect.map((params) => UrlParams.getFirst(params, disconnectTokenField)),
    Effect.orElseSucceed(() => Option.none<string>())
  )
}

/** Fetch metadata says which site sent the request; browsers that send none are covered by the proof alone. */
const isCrossSite = (request: HttpServerRequest.HttpServerRequest): boolean => {
  const site = request.headers["sec-fetch-site"]
  return site !== undefined && site !== "same-origin" && site !== "none"
}

/** See `AuthorizationRoutes.router`. */
export const router = <E, R>(options: RouterOptions<E, R>) => {
  const successUrl = options.successUrl ?? "/"
  const disconnectedUrl = options.disconnectedUrl ?? successUrl

  const resolve = (route: Route, request: HttpServerRequest.HttpServerRequest) =>
    options.resolveAccount(request).pipe(Effect.mapError((error) => unauthenticated(route, error)))

  const answer = (failure: Failure<E>) =>
    Effect.gen(function*() {
      yield* Effect.annotateCurrentSpan("dropbox_sign.outcome", failure.reason)
      // A declined consent or a stale link is the user's doing; an upstream or store failure is the operator's.
      const log = failure.reason === "unavailable" || failure.reason === "internal" ? Effect.logWarning : Effect.logInfo
      yield* log("Dropbox Sign authorization route failed").pipe(
        Effect.annotateLogs({ route: failure.route, reason: failure.reason, error: tagOf(failure.error) })
      )
      if (options.onFailure !== undefined) yield* options.onFailure(failure)
      return options.failureUrl === undefined ?
        page(failure.reason, successUrl) :
        redirect(withParam(options.failureUrl, failureParam, failure.reason))
    })

  const succeeded = (outcome: string, account: AccountId.AccountId, location: string) =>
    Effect.as(
      Effect.zipRight(
        Effect.annotateCurrentSpan({ "dropbox_sign.outcome": outcome, "dropbox_sign.account": account }),
        Effect.annotateLogs(Effect.logInfo(`Dropbox Sign account ${outcome}`), { account })
      ),
      redirect(location)
    )

  const connect = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const settings = yield* AuthorizationRoutes
    const client = yield* OAuthClient
    const account = yield* resolve("connect", request)
    const state = yield* OAuthState.make
    const now = yield* Clock.currentTimeMillis
    const sealed = yield* sealState(settings.key, "state", {
      state,
      account,
      expiresAt: now + Duration.toMillis(settings.stateLifetime)
    })
    yield* Effect.annotateCurrentSpan({ "dropbox_sign.outcome": "redirected", "dropbox_sign.account": account })
    const response = HttpServerResponse.redirect(client.authorizeUrl({ state }), {
      status: 302,
      headers: privateHeaders
    })
    return Cookie.set(response, settings, request, sealed)
  }).pipe(Effect.catchAll(answer), Effect.withSpan("AuthorizationRoutes.connect"))

  const callback = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const settings = yield* AuthorizationRoutes
    const manager = yield* TokenManager
    yield* scrubCallbackSpans
    const response = yield* Effect.gen(function*() {
      const expected = yield* expectedState(settings, request)
      const params = yield* Either.match(OAuthState.parseCallback(request.url, expected.state), {
        onLeft: (error) => refuse(error, "callback"),
        onRight: Effect.succeed
      })
      const account = yield* resolve("callback", request)
      // The user who started the authorization must be the one it completes for.
      if (account !== expected.account) {
        return yield* refuse(new StateCookieError({ reason: "other_account" }), "callback")
      }
      yield* manager.authorize(account, params, expected.state).pipe(
        Effect.mapError((error) => classify("callback", error))
      )
      return yield* succeeded("connected", account, successUrl)
    }).pipe(Effect.catchAll(answer))
    return Cookie.clear(response, settings, request)
  }).pipe(
    // `HttpMiddleware.logger` would log the URL, code included; this route logs its outcome itself.
    HttpMiddleware.withLoggerDisabled,
    Effect.withSpan("AuthorizationRoutes.callback")
  )

  const disconnect = Effect.gen(function*() {
    yield* scrubDisconnectSpans
    const request = yield* HttpServerRequest.HttpServerRequest
    const settings = yield* AuthorizationRoutes
    const manager = yield* TokenManager
    const proofFailure = (reason: CrossSiteRequestError["reason"]) =>
      refuse(new CrossSiteRequestError({ reason }), "disconnect")
    if (isCrossSite(request)) return yield* proofFailure("cross_site")
    const account = yield* resolve("disconnect", request)
    const proof = yield* disconnectProof(request)
    if (Option.isNone(proof)) return yield* proofFailure("missing_proof")
    const payload = openDisconnect(settings.key, "disconnect", proof.value)
    if (Option.isNone(payload)) return yield* proofFailure("invalid_proof")
    if ((yield* Clock.currentTimeMillis) >= payload.value.expiresAt) return yield* proofFailure("expired_proof")
    if (payload.value.account !== account) return yield* proofFailure("other_account")
    yield* manager.forget(account).pipe(Effect.mapError((error) => classify("disconnect", error)))
    return yield* succeeded("disconnected", account, disconnectedUrl)
  }).pipe(Effect.catchAll(answer), Effect.withSpan("AuthorizationRoutes.disconnect"))

  const routes = HttpRouter.empty.pipe(HttpRouter.get("/connect", connect), HttpRouter.get("/callback", callback))
  return options.disconnect === false ? routes : HttpRouter.post(routes, "/disconnect", disconnect)
}

/** See `AuthorizationRoutes.disconnectToken`. */
export const disconnectToken = (account: AccountId.AccountId) =>
  Effect.gen(function*() {
    const settings = yield* AuthorizationRoutes
    const now = yield* Clock.currentTimeMillis
    return yield* sealDisconnect(settings.key, "disconnect", {
      account,
      expiresAt: now + Duration.toMillis(settings.disconnectTokenLifetime)
    })
  })
