/**
 * The HTML of the fake's consent screen and of its error page, as small as a browser test needs and shaped like
 * Dropbox Sign's: who asks, which account answers, and a form with "Authorize" and "Deny".
 */

const entities: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "\"": "&quot;",
  "'": "&#39;"
}

/** Escapes text for an HTML element or a quoted attribute value. */
export const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => entities[c] ?? c)

/** The headers of every page: never cached, never framed (the consent form must not be clickjacked). */
export const headers: Readonly<Record<string, string>> = {
  "cache-control": "no-store",
  "x-frame-options": "DENY"
}

const document = (title: string, body: string): string =>
  `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
</head>
<body>
${body}
</body>
</html>
`

const hidden = (name: string, value: string): string => `<input type="hidden" name="${name}" value="${escape(value)}">`

/** The consent screen: its form posts back to `/oauth/authorize` with the one-time consent id. */
export const consent = (options: {
  readonly appName: string
  readonly emailAddress: string
  readonly clientId: string
  readonly state: string
  readonly consentId: string
}): string =>
  document(
    `Authorize ${options.appName} - Dropbox Sign`,
    `<main>
<h1>Authorize <span id="app-name">${escape(options.appName)}</span></h1>
<p><strong>${escape(options.appName)}</strong> would like to access your Dropbox Sign account.</p>
<p>Signed in as <span id="account-email">${escape(options.emailAddress)}</span></p>
<form method="post" action="/oauth/authorize">
${hidden("client_id", options.clientId)}
${hidden("state", options.state)}
${hidden("consent_id", options.consentId)}
<button type="submit" name="decision" value="allow">Authorize</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
</main>`
  )

/** An error page for a consent form that was refused. */
export const error = (status: number, message: string): string =>
  document(
    "Authorization failed - Dropbox Sign",
    `<main>
<h1>Authorization failed</h1>
<p id="error-message">${escape(message)}</p>
<p>Status ${status}</p>
</main>`
  )
