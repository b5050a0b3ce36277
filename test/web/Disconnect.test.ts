import { AccountId, AuthorizationRoutes, TokenStore } from "@dropbox-sign-effect/oauth"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Redacted, Ref, TestClock } from "effect"

import * as H from "./harness.js"

const { prefix } = H

const stored = (user: string) => Effect.flatMap(TokenStore.TokenStore, (store) => store.get(AccountId.make(user)))

/** Connects `user` through the routes. */
const connected = (app: H.App, user: string) =>
  Effect.gen(function*() {
    const { callback, cookie } = yield* H.startAuthorization(app, user)
    expect((yield* H.send(app, callback, { user, cookie })).status).toBe(303)
    expect(Option.isSome(yield* stored(user))).toBe(true)
  })

const form = (token: string) => `${AuthorizationRoutes.disconnectTokenField}=${encodeURIComponent(token)}`
const formHeaders = { "content-type": "application/x-www-form-urlencoded" }

const disconnect = (app: H.App, user: string, init: {
  readonly body?: string
  readonly headers?: Record<string, string>
}) =>
  H.send(app, `${prefix}/disconnect`, {
    method: "POST",
    user,
    headers: { ...formHeaders, ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body })
  })

const expectRefused = (
  failures: Ref.Ref<ReadonlyArray<AuthorizationRoutes.Failure<H.NotSignedIn>>>,
  reason: AuthorizationRoutes.CrossSiteRequestError["reason"]
) =>
  Effect.gen(function*() {
    const all = yield* Ref.get(failures)
    expect(all).toHaveLength(1)
    const failure = all[0]!
    expect(failure.reason).toBe("forbidden")
    expect(failure.route).toBe("disconnect")
    expect(failure.error._tag).toBe("CrossSiteRequestError")
    if (failure.error._tag === "CrossSiteRequestError") expect(failure.error.reason).toBe(reason)
  })

describe("POST /disconnect", () => {
  it.effect("with the proof from disconnectToken: forgets the account's tokens and redirects", () =>
    Effect.gen(function*() {
      const { app, failures } = yield* H.makeApp({ disconnectedUrl: "/?disconnected" })
      yield* connected(app, "alice")
      yield* connected(app, "bob")
      const token = yield* AuthorizationRoutes.disconnectToken(AccountId.make("alice"))
      const sent = yield* disconnect(app, "alice", { body: form(token) })
      expect(sent.status).toBe(303)
      expect(sent.headers["location"]).toBe("/?disconnected")
      expect(Option.isNone(yield* stored("alice"))).toBe(true)
      expect(Option.isSome(yield* stored("bob"))).toBe(true)
      expect(yield* Ref.get(failures)).toStrictEqual([])
    }).pipe(Effect.provide(H.layer())))

  it.effect("the proof may come in the x-dropbox-sign-disconnect-token header", () =>
    Effect.gen(function*() {
      const { app } = yield* H.makeApp()
      yield* connected(app, "alice")
      const token = yield* AuthorizationRoutes.disconnectToken(AccountId.make("alice"))
      const sent = yield* disconnect(app, "alice", { headers: { "x-dropbox-sign-disconnect-token": token } })
      expect(sent.status).toBe(303)
      expect(Option.isNone(yield* stored("alice"))).toBe(true)
    }).pipe(Effect.provide(H.layer())))

  it.effect("without the anti-CSRF proof: 403, the tokens stay", () =>
    Effect.gen(function*() {
      const { app, failures } = yield* H.makeApp()
      yield* connected(app, "alice")
      const sent = yield* disconnect(app, "alice", { body: "" })
      expect(sent.status).toBe(403)
      expect(sent.body).toContain("did not come from the application")
      yield* expectRefused(failures, "missing_proof")
      expect(Option.isSome(yield* stored("alice"))).toBe(true)
    }).pipe(Effect.provide(H.layer())))

  it.effect("an altered proof, or the state cookie offered as one: 403, the tokens stay", () =>
    Effect.gen(function*() {
      const { app, failures } = yield* H.makeApp()
      yield* connected(app, "alice")
      const token = yield* AuthorizationRoutes.disconnectToken(AccountId.make("alice"))
      const altered = `${token.slice(0, 10)}${token[10] === "A" ? "B" : "A"}${token.slice(11)}`
      expect((yield* disconnect(app, "alice", { body: form(altered) })).status).toBe(403)
      yield* expectRefused(failures, "invalid_proof")
      yield* Ref.set(failures, [])
      // A value sealed for the state cookie never opens as a proof.
      const { cookie } = yield* H.startAuthorization(app, "alice")
      const stateValue = cookie.slice(cookie.indexOf("=") + 1)
      expect((yield* disconnect(app, "alice", { body: form(stateValue) })).status).toBe(403)
      yield* expectRefused(failures, "invalid_proof")
      expect(Option.isSome(yield* stored("alice"))).toBe(true)
    }).pipe(Effect.provide(H.layer())))

  it.effect("another account's proof: 403, neither account's tokens are forgotten", () =>
    Effect.gen(function*() {
      const { app, failures } = yield* H.makeApp()
      yield* connected(app, "alice")
      yield* connected(app, "bob")
      const bobs = yield* AuthorizationRoutes.disconnectToken(AccountId.make("bob"))
      expect((yield* disconnect(app, "alice", { body: form(bobs) })).status).toBe(403)
      yield* expectRefused(failures, "other_account")
      expect(Option.isSome(yield* stored("alice"))).toBe(true)
      expect(Option.isSome(yield* stored("bob"))).toBe(true)
    }).pipe(Effect.provide(H.layer())))

  it.effect("an expired proof: 403 after disconnectTokenLifetime", () =>
    Effect.gen(function*() {
      const { app, failures } = yield* H.makeApp()
      yield* connected(app, "alice")
      const token = yield* AuthorizationRoutes.disconnectToken(AccountId.make("alice"))
      yield* TestClock.adjust("31 minutes")
      expect((yield* disconnect(app, "alice", { body: form(token) })).status).toBe(403)
      yield* expectRefused(failures, "expired_proof")
      expect(Option.isSome(yield* stored("alice"))).toBe(true)
    }).pipe(Effect.provide(H.layer({ routes: { disconnectTokenLifetime: "30 minutes" } }))))

  it.effect("sent by another site's page (Sec-Fetch-Site: cross-site), even with a valid proof: 403", () =>
    Effect.gen(function*() {
      const { app, failures } = yield* H.makeApp()
      yield* connected(app, "alice")
      const token = yield* AuthorizationRoutes.disconnectToken(AccountId.make("alice"))
      const sent = yield* disconnect(app, "alice", { body: form(token), headers: { "sec-fetch-site": "cross-site" } })
      expect(sent.status).toBe(403)
      yield* expectRefused(failures, "cross_site")
      expect(Option.isSome(yield* stored("alice"))).toBe(true)
    }).pipe(Effect.provide(H.layer())))

  it.effect("a proof from a deployment with another key: 403", () =>
    Effect.gen(function*() {
      const { app, failures } = yield* H.makeApp()
      yield* connected(app, "alice")
      const foreign = yield* AuthorizationRoutes.disconnectToken(AccountId.make("alice")).pipe(
        Effect.provide(
          AuthorizationRoutes.layer({ cookieKey: Redacted.make("another-deployment-another-key-0123456789") })
        )
      )
      expect((yield* disconnect(app, "alice", { body: form(foreign) })).status).toBe(403)
      yield* expectRefused(failures, "invalid_proof")
    }).pipe(Effect.provide(H.layer())))

  it.effect("GET is not a disconnect; with disconnect: false there is no route at all", () =>
    Effect.gen(function*() {
      const { app } = yield* H.makeApp()
      expect((yield* H.send(app, `${prefix}/disconnect`, { user: "alice" })).status).toBe(404)
      const without = yield* H.makeApp({ disconnect: false })
      const token = yield* AuthorizationRoutes.disconnectToken(AccountId.make("alice"))
      const sent = yield* disconnect(without.app, "alice", { body: form(token) })
      expect(sent.status).toBe(404)
    }).pipe(Effect.provide(H.layer())))
})
