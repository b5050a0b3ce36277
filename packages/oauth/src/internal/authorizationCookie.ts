/**
 * The state cookie's attributes: `HttpOnly`, `SameSite=Lax`, `Secure` unless the application runs on loopback, and
 * a path limited to where the routes are mounted.
 */
import type { HttpServerRequest } from "@effect/platform"
import { HttpServerResponse } from "@effect/platform"

import type { Service } from "../AuthorizationRoutes.js"
import { isLoopbackHost } from "./baseUrl.js"

const hostnameOf = (host: string | undefined): string | undefined => {
  if (host === undefined) return undefined
  try {
    return new URL(`http://${host}`).hostname
  } catch {
    return undefined
  }
}

/** Headers a reverse proxy adds: behind one, the `Host` may be loopback while the browser is anywhere. */
const forwardingHeaders = ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip"]

/**
 * `Secure` unless configured otherwise or the request came straight to a loopback host (no proxy in between). A
 * missing or odd `Host` header counts as remote: the safe side. A proxy that adds none of the usual headers cannot be
 * told apart: set `secureCookie: true` behind one.
 */
export const isSecure = (settings: Service, request: HttpServerRequest.HttpServerRequest): boolean => {
  if (settings.secureCookie !== undefined) return settings.secureCookie
  const hostname = hostnameOf(request.headers.host)
  if (hostname === undefined || !isLoopbackHost(hostname)) return true
  return forwardingHeaders.some((name) => request.headers[name] !== undefined)
}

/**
 * Where the routes are mounted, from the full path of one of them (`/dropbox-sign/connect` gives `/dropbox-sign`),
 * so that the browser sends the cookie to the routes only.
 */
export const mountPath = (request: HttpServerRequest.HttpServerRequest, route: string): string => {
  const pathname = new URL(request.originalUrl, "http://routes.invalid").pathname
  return pathname.endsWith(`/${route}`) && pathname.length > route.length + 1 ?
    pathname.slice(0, -(route.length + 1)) :
    "/"
}

const attributes = (settings: Service, request: HttpServerRequest.HttpServerRequest, path: string) => ({
  httpOnly: true,
  sameSite: "lax" as const,
  secure: isSecure(settings, request),
  path
})

/** Sets the sealed state, for `stateLifetime`. The value is base64url: always a valid cookie value. */
export const set = (
  response: HttpServerResponse.HttpServerResponse,
  settings: Service,
  request: HttpServerRequest.HttpServerRequest,
  value: string
): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.unsafeSetCookie(response, settings.cookieName, value, {
    ...attributes(settings, request, mountPath(request, "connect")),
    maxAge: settings.stateLifetime
  })

/** Clears the state cookie: a callback is answered once per connect. */
export const clear = (
  response: HttpServerResponse.HttpServerResponse,
  settings: Service,
  request: HttpServerRequest.HttpServerRequest
): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.expireCookie(
    response,
    settings.cookieName,
    attributes(settings, request, mountPath(request, "callback"))
  )
