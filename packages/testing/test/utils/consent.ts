/**
 * Reading the fake's consent page and answering its form as a browser would: the hidden fields are read back from
 * the HTML (unescaped), and the chosen button's `decision` is added.
 */
import { HttpClientRequest } from "@effect/platform"

import { type Answer, send } from "./http.js"

const entities: Readonly<Record<string, string>> = {
  "&amp;": "&",
  "&lt;": "<",
  "&gt;": ">",
  "&quot;": "\"",
  "&#39;": "'"
}

/** What a browser shows for an attribute value or text: the entities decoded. */
export const unescapeHtml = (html: string): string => html.replace(/&(?:amp|lt|gt|quot|#39);/g, (e) => entities[e]!)

/** The page's hidden form fields, as the browser would submit them. */
export const hiddenFields = (html: string): Readonly<Record<string, string>> =>
  Object.fromEntries(
    Array.from(
      html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g),
      ([, name, value]) => [name!, unescapeHtml(value!)]
    )
  )

/** The page's form, submitted with one of its buttons. */
export const submitConsent = (
  baseUrl: string,
  fields: Readonly<Record<string, string>>,
  decision: "allow" | "deny"
) =>
  send(
    HttpClientRequest.post(`${baseUrl}/oauth/authorize`).pipe(
      HttpClientRequest.bodyUrlParams({ ...fields, decision })
    )
  )

/** The query of a redirect's `Location`. */
export const redirectParams = (answer: Answer): URLSearchParams => new URL(answer.headers["location"]!).searchParams
