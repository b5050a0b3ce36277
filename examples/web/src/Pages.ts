/**
 * The example's HTML: a home page with "Connect Dropbox Sign", and the connected account's page.
 */
import { AuthorizationRoutes } from "@dropbox-sign-effect/oauth"
import { HttpServerResponse } from "@effect/platform"

/** Where the example mounts the authorization routes. */
export const routesPrefix = "/dropbox-sign"

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const document = (title: string, body: string): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.text(
    `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title></head>
<body>
<main>
<h1>${escape(title)}</h1>
${body}
</main>
</body>
</html>
`,
    { contentType: "text/html; charset=utf-8", headers: { "cache-control": "no-store" } }
  )

const connectLink = `<p><a id="connect" href="${routesPrefix}/connect">Connect Dropbox Sign</a></p>`

/** What the home page says after a failed connection, by `dropbox_sign_error`. */
const failures: Readonly<Record<AuthorizationRoutes.FailureReason, string>> = {
  denied: "You declined the authorization on Dropbox Sign.",
  invalid_state: "The authorization could not be verified (expired, used already, or started elsewhere).",
  exchange_refused: "Dropbox Sign refused the authorization. Try again.",
  unavailable: "Dropbox Sign could not be reached. Try again in a moment.",
  unauthenticated: "Your session expired. Try again.",
  forbidden: "The request was refused.",
  internal: "The connection could not be saved. Try again."
}

const isFailureReason = (reason: string): reason is AuthorizationRoutes.FailureReason => reason in failures

export const home = (options: {
  readonly user: string
  readonly connected: boolean
  readonly failure: string | undefined
}): HttpServerResponse.HttpServerResponse => {
  const failure = options.failure !== undefined && isFailureReason(options.failure) ?
    `<p id="failure" role="alert">${escape(failures[options.failure])}</p>` :
    ""
  const status = options.connected ?
    `<p id="status">Dropbox Sign: connected. <a href="/account">Show the account</a></p>` :
    `<p id="status">Dropbox Sign: not connected</p>${connectLink}`
  return document(
    "Example app",
    `<p>Signed in as <span id="user">${escape(options.user)}</span></p>${failure}${status}`
  )
}

export const notConnected = (reason: string): HttpServerResponse.HttpServerResponse =>
  document(
    "Dropbox Sign account",
    `<p id="status">Dropbox Sign: not connected</p><p>${escape(reason)}</p>${connectLink}`
  )

export const account = (options: {
  readonly emailAddress: string
  readonly disconnectToken: string
}): HttpServerResponse.HttpServerResponse =>
  document(
    "Dropbox Sign account",
    `<p id="status">Dropbox Sign: connected as <strong id="email">${escape(options.emailAddress)}</strong></p>
<form method="post" action="${routesPrefix}/disconnect">
<input type="hidden" name="${AuthorizationRoutes.disconnectTokenField}" value="${escape(options.disconnectToken)}">
<button type="submit">Disconnect</button>
</form>
<p><a href="/">Home</a></p>`
  )
