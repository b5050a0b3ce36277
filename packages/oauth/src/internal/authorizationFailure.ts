/**
 * What each failure of the authorization routes is called, which status it answers, and the short page that says so.
 * Pages name the case only: never a code, a token, a state or an error message from upstream.
 */
import { HttpServerResponse } from "@effect/platform"

import type { CrossSiteRequestError, Failure, FailureReason, Route, StateCookieError } from "../AuthorizationRoutes.js"
import type { TokenError } from "../TokenError.js"

/** The statuses of the pages, by reason. */
export const statusOf: Readonly<Record<FailureReason, number>> = {
  unauthenticated: 401,
  invalid_state: 400,
  denied: 403,
  exchange_refused: 400,
  unavailable: 502,
  forbidden: 403,
  internal: 500
}

const pages: Readonly<Record<FailureReason, { readonly title: string; readonly text: string }>> = {
  unauthenticated: { title: "Sign in first", text: "Sign in to the application, then connect Dropbox Sign again." },
  invalid_state: {
    title: "Dropbox Sign was not connected",
    text:
      "This authorization could not be verified: it expired, was already used, or was not started from this browser. " +
      "Start again from the application."
  },
  denied: { title: "Dropbox Sign was not connected", text: "The authorization was declined on Dropbox Sign." },
  exchange_refused: {
    title: "Dropbox Sign was not connected",
    text: "Dropbox Sign refused the authorization (it may have expired or been used already). Start again."
  },
  unavailable: {
    title: "Dropbox Sign could not be reached",
    text: "Dropbox Sign did not answer as expected. Try again in a moment."
  },
  forbidden: { title: "Request refused", text: "This request did not come from the application's own page." },
  internal: { title: "Something went wrong", text: "The connection could not be saved. Try again in a moment." }
}

/** Everything the routes fail with before classification; `E` is the application's `resolveAccount` error. */
export type RouteError = TokenError | StateCookieError | CrossSiteRequestError

/** Names a typed failure of `route`. */
export const classify = (route: Route, error: RouteError): Failure<never> => {
  const failure = <R extends FailureReason, Error>(reason: R, error: Error) => ({
    route,
    reason,
    status: statusOf[reason],
    error
  })
  switch (error._tag) {
    case "StateCookieError":
    case "StateMismatchError":
    case "InvalidCallbackError":
      return failure("invalid_state", error)
    case "AuthorizationDeniedError":
      return failure("denied", error)
    case "OAuthApiError":
      return failure("exchange_refused", error)
    case "TransportError":
    case "ServerError":
    case "RateLimitedError":
    case "ResponseDecodeError":
      return failure("unavailable", error)
    case "CrossSiteRequestError":
      return failure("forbidden", error)
    case "TokenStoreError":
    case "StaleTokenError":
    case "ReauthorizationRequiredError":
    case "TokenNotFoundError":
      return failure("internal", error)
  }
}

/** Failures of the application's own `resolveAccount`. */
export const unauthenticated = <E>(route: Route, error: E): Failure<E> => ({
  route,
  reason: "unauthenticated",
  status: statusOf.unauthenticated,
  error
})

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** Headers on every answer of the routes: nothing cached, no referrer carrying a callback URL to another site. */
export const privateHeaders = {
  "cache-control": "no-store",
  "referrer-policy": "no-referrer"
} as const

/** The page for `reason`, with a link back to `homeUrl`. It loads nothing and runs nothing. */
export const page = (reason: FailureReason, homeUrl: string): HttpServerResponse.HttpServerResponse => {
  const { text, title } = pages[reason]
  return HttpServerResponse.text(
    `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title></head>
<body>
<main>
<h1>${title}</h1>
<p>${text}</p>
<p><a href="${escapeHtml(homeUrl)}">Back to the application</a></p>
</main>
</body>
</html>
`,
    {
      status: statusOf[reason],
      contentType: "text/html; charset=utf-8",
      headers: {
        ...privateHeaders,
        "content-security-policy": "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        "x-content-type-options": "nosniff"
      }
    }
  )
}

/** `url` with `name=value` added to its query, relative URLs kept relative. */
export const withParam = (url: string, name: string, value: string): string => {
  const base = "http://relative.invalid"
  const parsed = new URL(url, base)
  parsed.searchParams.set(name, value)
  return parsed.origin === base && !url.startsWith(base) ?
    `${parsed.pathname}${parsed.search}${parsed.hash}` :
    parsed.href
}
