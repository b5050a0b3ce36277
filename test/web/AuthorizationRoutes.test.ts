import { AccountId, AuthorizationRoutes, TokenStore } from "@dropbox-sign-effect/oauth"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Redacted, Ref, TestClock } from "effect"

import * as H from "./harness.js"

const { prefix } = H

const stored = (user: string) => Effect.flatMap(TokenStore.TokenStore, (store) => store.get(AccountId.make(user)))
const counters = Effect.flatMap(H.FakeDropboxSign.FakeDropboxSign, (fake) => fake.counters)
const onlyFailure = <E>(failures: Ref.Ref<ReadonlyArray<AuthorizationRoutes.Failure<E>>>) =>
  Effect.map(Ref.get(failures), (all) => {
    expect(all).toHaveLength(1)
    return all[0]!
  })

/** The cookie the response clears: same name and path, expired now. */
const expectCleared = (sent: H.Sent) => {
  const cleared = sent.setCookies.cookies[AuthorizationRoutes.defaultCookieName]
  expect(cleared?.value).toBe("")
  expect(cleared?.options?.path).toBe(prefix)
  expect(cleared?.options?.httpOnly).toBe(true)
}

describe("GET /connect", () => {
  it.effect("redirects to the authorize URL and binds the state to the browser in a short-lived cookie", () =>
    Effect.gen(function*() {
      const { app } = yield* H.makeApp()
      const sent = yield* H.send(app, `${prefix}/connect`, { user: "alice" })
      expect(sent.status).toBe(302)
      const location = new URL(sent.headers["location"]!)
      expect(location.pathname).toBe("/oauth/authorize")
      expect(location.searchParams.get("response_type")).toBe("code")
      const state = location.searchParams.get("state")!
      expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(sent.headers["cache-control"]).toBe("no-store")
      const setCookie = sent.setCookie
      expect(setCookie).toHaveLength(1)
      expect(setCookie[0]).toMatch(
        /^dropbox_sign_oauth=v1\.[A-Za-z0-9_-]+; Max-Age=600; Path=\/dropbox-sign; HttpOnly; SameSite=Lax$/
      )
      // Encrypted: neither the state nor the account can be read from the cookie.
      expect(setCookie[0]).not.toContain(state)
      expect(setCookie[0]).not.toContain("alice")
    }).pipe(Effect.provide(H.layer())))

  it.effect("marks the cookie Secure unless the host is loopback, or as configured", () =>
    Effect.gen(function*() {
      const { app } = yield* H.makeApp()
      const cookieOf = (host: string, forwarded: Record<string, string> = {}) =>
        Effect.map(
          H.send(app, `${prefix}/connect`, { user: "alice", headers: { host, ...forwarded } }),
          (sent) => sent.setCookies.cookies[AuthorizationRoutes.defaultCookieName]?.options?.secure ?? false
        )
      expect(yield* cookieOf("app.example.com")).toBe(true)
      expect(yield* cookieOf("127.0.0.1:3000")).toBe(false)
      expect(yield* cookieOf("localhost:3000")).toBe(false)
      expect(yield* cookieOf("[::1]:3000")).toBe(false)
      expect(yield* cookieOf("localhost.example.com")).toBe(true)
      // Behind a reverse proxy the Host may be loopback while the browser is anywhere.
      expect(yield* cookieOf("127.0.0.1:3000", { "x-forwarded-proto": "https" })).toBe(true)
      expect(yield* cookieOf("127.0.0.1:3000", { "x-forwarded-for": "203.0.113.7" })).toBe(true)
      expect(yield* cookieOf("localhost:3000", { forwarded: "for=203.0.113.7;proto=https" })).toBe(true)
    }).pipe(Effect.provide(H.layer())))

  it.effect("a configured secureCookie wins over the host", () =>
    Effect.gen(function*() {
      const { app } = yield* H.makeApp()
      const sent = yield* H.send(app, `${prefix}/connect`, { user: "alice" })
      expect(sent.setCookies.cookies[AuthorizationRoutes.defaultCookieName]?.options?.secure).toBe(true)
    }).pipe(Effect.provide(H.layer({ routes: { secureCookie: true } }))))

  it.effect("without a signed-in user: 401, and the hook gets the application's error", () =>
    Effect.gen(function*() {
      const { app, failures } = yield* H.makeApp()
      const sent = yield* H.send(app, `${prefix}/connect`)
      expect(sent.status).toBe(401)
      expect(sent.headers["location"]).toBeUndefined()
      expect(sent.setCookie).toStrictEqual([])
      const failure = yield* onlyFailure(failures)
      expect(failure.reason).toBe("unauthenticated")
      expect(failure.route).toBe("connect")
      expect(failure.error._tag).toBe("NotSignedIn")
    }).pipe(Effect.provide(H.layer())))
})

describe("GET /callback", () => {
  it.effect("exchanges the code for the account the application names, clears the cookie, redirects", () =>
    Effect.gen(function*() {
      const { app, failures } = yield* H.makeApp()
      const { callback, cookie } = yield* H.startAuthorization(app, "alice")
      const sent = yield* H.send(app, callback, { user: "alice", cookie })
      expect(sent.status).toBe(303)
      expect(sent.headers["location"]).toBe("/account")
      expectCleared(sent)
      expect(Option.isSome(yield* stored("alice"))).toBe(true)
      expect(yield* Ref.get(failures)).toStrictEqual([])
    }).pipe(Effect.provide(H.layer())))

  it.effect("a tampered cookie: 400, nothing exchanged or stored", () =>
    Effect.gen(function*() {
      const { app, failures } = yield* H.makeApp()
      const { callback, cookie } = yield* H.startAuthorization(app, "alice")
      // Flip one character of the ciphertext.
      const last = cookie.at(-2) === "A" ? "B" : "A"
      const tampered = `${cookie.slice(0, -2)}${last}${cookie.slice(-1)}`
      const sent = yield* H.send(app, callback, { user: "alice", cookie: tampered })
      expect(sent.status).toBe(400)
      expect(sent.body).toContain("could not be verified")
      expectCleared(sent)
      const failure = yield* onlyFailure(failures)
      expect(failure.reason).toBe("invalid_state")
      expect(failure.error._tag).toBe("StateCookieError")
      if (failure.error._tag === "StateCookieError") expect(failure.error.reason).toBe("invalid")
      expect((yield* counters).codesExchanged).toBe(0)
      expect(Option.isNone(yield* stored("alice"))).toBe(true)
    }).pipe(Effect.provide(H.layer())))

  it.effect("a cookie sealed with another key is refused like a tampered one", () =>
    Effect.gen(function*() {
      const { app, failures } = yield* H.makeApp()
      const { callback } = yield* H.startAuthorization(app, "alice")
      // The same flow on a deployment with another key.
      const other = yield* Effect.flatMap(H.makeApp(), (other) => H.startAuthorization(other.app, "alice")).pipe(
        Effect.provide(H.layer({ routes: { cookieKey: Redacted.make("another-deployment-another-key-0123456789") } }))
      )
      const sent = yield* H.send(app, callback, { user: "alice", cookie: other.cookie })
      expect(sent.status).toBe(400)
      const failure = yield* onlyFailure(failures)
      expect(failure.error._tag).toBe("StateCookieError")
      if (failure.error._tag === "StateCookieError") expect(failure.error.reason).toBe("invalid")
    }).pipe(Effect.provide(H.layer())))

  it.effect("a missing cookie: 400, nothing exchanged", () =>
    Effect.gen(function*() {
      const { app, failures } = yield* H.makeApp()
      const { callback } = yield* H.startAuthorization(app, "alice")
      const sent = yield* H.send(app, callback, { user: "alice" })
      expect(sent.status).toBe(400)
      const failure = yield* onlyFailure(failures)
      expect(failure.reason).toBe("invalid_state")
      expect(failure.error._tag).toBe("StateCookieError")
      if (failure.error._tag === "StateCookieError") expect(failure.error.reason).toBe("missing")
      expect((yield* counters).codesExchanged).toBe(0)
    }).pipe(Effect.provide(H.layer())))

  it.effect("a callback carrying another browser's state: 400, neither code exchanged", () =>
    Effect.gen(function*() {
      const { app, failures } = yield* H.makeApp()
      const mine = yield* H.startAuthorization(app, "alice")
      // An attacker's own authorization, whose callback URL the victim's browser is made to open.
      const theirs = yield* H.startAuthorization(app, "alice")
      const sent = yield* H.send(app, theirs.callback, { user: "alice", cookie: mine.cookie })
      expect(sent.status).toBe(400)
      const failure = yield* onlyFailure(failures)
      expect(failure.reason).toBe("invalid_state")
      expect(failure.error._tag).toBe("StateMismatchError")
      expect((yield* counters).codesExchanged).toBe(0)
      expect(Option.isNone(yield* stored("alice"))).toBe(true)
    }).pipe(Effect.provide(H.layer())))

  it.effect("a cookie issued to another account of the application: 400, nothing stored for either", () =>
    Effect.gen(function*() {
      const { app, failures } = yield* H.makeApp()
      const { callback, cookie } = yield* H.startAuthorization(app, "alice")
      const sent = yield* H.send(app, callback, { user: "bob", cookie })
      expect(sent.status).toBe(400)
      const failure = yield* onlyFailure(failures)
      expect(failure.error._tag).toBe("StateCookieError")
      if (failure.error._tag === "StateCookieError") expect(failure.error.reason).toBe("other_account")
      expect(Option.isNone(yield* stored("alice"))).toBe(true)
      expect(Option.isNone(yield* stored("bob"))).toBe(true)
    }).pipe(Effect.provide(H.layer())))

  it.effect("an expired state: 400 after stateLifetime", () =>
    Effect.gen(function*() {
      const { app, failures } = yield* H.makeApp()
      const { callback, cookie } = yield* H.startAuthorization(app, "alice")
      yield* TestClock.adjust("2 minutes")
      const sent = yield* H.send(app, callback, { user: "alice", cookie })
      expect(sent.status).toBe(400)
      const failure = yield* onlyFailure(failures)
      expect(failure.error._tag).toBe("StateCookieError")
      if (failure.error._tag === "StateCookieError") expect(failure.error.reason).toBe("expired")
      expect((yield* counters).codesExchanged).toBe(0)
    }).pipe(Effect.provide(H.layer({ routes: { stateLifetime: "1 minute" } }))))

  it.effect("denied consent: 403, the hook gets AuthorizationDeniedError, nothing stored", () =>
    Effect.gen(function*() {
      const { app, failures } = yield* H.makeApp()
      yield* Effect.flatMap(H.FakeDropboxSign.FakeDropboxSign, (fake) => fake.denyNextConsent)
      const { callback, cookie } = yield* H.startAuthorization(app, "alice")
      expect(new URLSearchParams(callback.split("?")[1]).get("error")).toBe("access_denied")
      const sent = yield* H.send(app, callback, { user: "alice", cookie })
      expect(sent.status).toBe(403)
      expect(sent.body).toContain("declined")
      expectCleared(sent)
      const failure = yield* onlyFailure(failures)
      expect(failure.reason).toBe("denied")
      expect(failure.error._tag).toBe("AuthorizationDeniedError")
      if (failure.error._tag === "AuthorizationDeniedError") expect(failure.error.error).toBe("access_denied")
      expect(Option.isNone(yield* stored("alice"))).toBe(true)
    }).pipe(Effect.provide(H.layer())))

  it.effect("the same callback twice: the second is refused (no cookie left), the first grant is kept", () =>
    Effect.gen(function*() {
      const { app, failures } = yield* H.makeApp()
      const { callback, cookie } = yield* H.startAuthorization(app, "alice")
      expect((yield* H.send(app, callback, { user: "alice", cookie })).status).toBe(303)
      const first = yield* stored("alice")
      const again = yield* H.send(app, callback, { user: "alice" })
      expect(again.status).toBe(400)
      const failure = yield* onlyFailure(failures)
      expect(failure.error._tag).toBe("StateCookieError")
      expect(yield* stored("alice")).toStrictEqual(first)
    }).pipe(Effect.provide(H.layer())))

  it.effect("a replayed code with its cookie kept: Dropbox Sign refuses it, 400, the first grant is kept", () =>
    Effect.gen(function*() {
      const { app, failures } = yield* H.makeApp()
      const { callback, cookie } = yield* H.startAuthorization(app, "alice")
      expect((yield* H.send(app, callback, { user: "alice", cookie })).status).toBe(303)
      const first = yield* stored("alice")
      const again = yield* H.send(app, callback, { user: "alice", cookie })
      expect(again.status).toBe(400)
      const failure = yield* onlyFailure(failures)
      expect(failure.reason).toBe("exchange_refused")
      expect(failure.error._tag).toBe("OAuthApiError")
      expect(yield* stored("alice")).toStrictEqual(first)
    }).pipe(Effect.provide(H.layer())))

  it.effect("the provider refusing the code: 400 exchange_refused with the OAuthApiError", () =>
    Effect.gen(function*() {
      const { app, failures } = yield* H.makeApp()
      yield* Effect.flatMap(
        H.FakeDropboxSign.FakeDropboxSign,
        (fake) => fake.injectFault("token", H.FakeDropboxSign.Fault.Status({ status: 400, errorName: "bad_request" }))
      )
      const { callback, cookie } = yield* H.startAuthorization(app, "alice")
      const sent = yield* H.send(app, callback, { user: "alice", cookie })
      expect(sent.status).toBe(400)
      expect(sent.body).toContain("refused the authorization")
      const failure = yield* onlyFailure(failures)
      expect(failure.reason).toBe("exchange_refused")
      expect(failure.error._tag).toBe("OAuthApiError")
      if (failure.error._tag === "OAuthApiError") expect(failure.error.errorName).toBe("bad_request")
      expect(Option.isNone(yield* stored("alice"))).toBe(true)
    }).pipe(Effect.provide(H.layer())))

  it.effect("a transport failure: 502 unavailable with the TransportError", () =>
    Effect.gen(function*() {
      const { app, failures } = yield* H.makeApp()
      yield* Effect.flatMap(H.FakeDropboxSign.FakeDropboxSign, (fake) =>
        fake.injectFault("token", H.FakeDropboxSign.Fault.ConnectionReset({})))
      const { callback, cookie } = yield* H.startAuthorization(app, "alice")
      const sent = yield* H.send(app, callback, { user: "alice", cookie })
      expect(sent.status).toBe(502)
      expect(sent.body).toContain("Try again")
      const failure = yield* onlyFailure(failures)
      expect(failure.reason).toBe("unavailable")
      expect(failure.error._tag).toBe("TransportError")
      expect(Option.isNone(yield* stored("alice"))).toBe(true)
    }).pipe(Effect.provide(H.layer())))

  it.effect("with failureUrl, a failure redirects there with its reason and nothing else", () =>
    Effect.gen(function*() {
      const { app, failures } = yield* H.makeApp({ failureUrl: "/?tab=dropbox" })
      yield* Effect.flatMap(H.FakeDropboxSign.FakeDropboxSign, (fake) => fake.denyNextConsent)
      const { callback, cookie } = yield* H.startAuthorization(app, "alice")
      const sent = yield* H.send(app, callback, { user: "alice", cookie })
      expect(sent.status).toBe(303)
      expect(sent.headers["location"]).toBe("/?tab=dropbox&dropbox_sign_error=denied")
      expectCleared(sent)
      expect((yield* onlyFailure(failures)).reason).toBe("denied")
    }).pipe(Effect.provide(H.layer())))
})
