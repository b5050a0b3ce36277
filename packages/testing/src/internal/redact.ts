/**
 * Redaction for the request log: whatever could authenticate a caller is wrapped in `Redacted`, so printing a log
 * entry (`JSON.stringify`, `util.inspect`, `toString`) shows `<redacted>` instead of the value.
 */
import * as Headers from "@effect/platform/Headers"
import * as Redacted from "effect/Redacted"

/** Header names whose values are credentials. */
const secretHeaders: ReadonlyArray<string> = ["authorization", "proxy-authorization", "cookie", "set-cookie"]

/** Body keys whose values are credentials; any key naming a secret, password or token value is covered too. */
const secretKeys: ReadonlySet<string> = new Set([
  "code",
  "client_secret",
  "refresh_token",
  "access_token",
  "id_token",
  // The consent page's one-time anti-forgery value: whoever holds it can answer for the account.
  "consent_id"
])
const secretKeyPattern = /secret|password|api_key/i

/** True when a body field carries a credential. */
export const isSecretKey = (key: string): boolean => secretKeys.has(key) || secretKeyPattern.test(key)

/** Copies the headers with every credential wrapped in `Redacted`. */
export const headers = (input: Headers.Headers): Readonly<Record<string, string | Redacted.Redacted>> =>
  Headers.redact(input, secretHeaders)

/** Copies the body fields with every credential wrapped in `Redacted`. */
export const body = (fields: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> => {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(fields)) {
    out[key] = isSecretKey(key) ? Redacted.make(value) : value
  }
  return out
}
