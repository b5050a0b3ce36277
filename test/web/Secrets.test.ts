import { AccountId, AuthorizationRoutes, TokenStore } from "@dropbox-sign-effect/oauth"
import { SecretCanary } from "@dropbox-sign-effect/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Redacted } from "effect"

import * as H from "./harness.js"

const { prefix } = H

const codeOf = (callback: string) => new URLSearchParams(callback.split("?")[1]).get("code")!

describe("AuthorizationRoutes secrets", () => {
  it.effect("no code, token, client secret, cookie key or proof in any response, log line or span", () =>
    Effect.gen(function*() {
      const { app } = yield* H.makeApp()
      const fake = yield* H.FakeDropboxSign.FakeDropboxSign
      const captured = SecretCanary.make()
      const responses: Array<H.Sent> = []
      const send = (app: H.App, path: string, init: Parameters<typeof H.send>[2]) =>
        SecretCanary.capture(H.send(app, path, init), captured).pipe(Effect.tap((sent) => responses.push(sent)))

      // Success.
      const ok = yield* H.startAuthorization(app, "alice")
      yield* send(app, ok.callback, { user: "alice", cookie: ok.cookie })
      // Another browser's callback, then a replay of the used code with its cookie.
      const mine = yield* H.startAuthorization(app, "bob")
      const theirs = yield* H.startAuthorization(app, "bob")
      yield* send(app, theirs.callback, { user: "bob", cookie: mine.cookie })
      yield* send(app, ok.callback, { user: "alice", cookie: ok.cookie })
      // The provider refusing, and a transport failure.
      yield* fake.injectFault("token", H.FakeDropboxSign.Fault.Status({ status: 400 }))
      const refused = yield* H.startAuthorization(app, "carol")
      yield* send(app, refused.callback, { user: "carol", cookie: refused.cookie })
      yield* fake.injectFault("token", H.FakeDropboxSign.Fault.ConnectionReset({ processed: true }))
      const reset = yield* H.startAuthorization(app, "dave")
      yield* send(app, reset.callback, { user: "dave", cookie: reset.cookie })
      // A refused and an accepted disconnect.
      const proof = yield* AuthorizationRoutes.disconnectToken(AccountId.make("alice"))
      const body = `${AuthorizationRoutes.disconnectTokenField}=${encodeURIComponent(proof)}`
      const headers = { "content-type": "application/x-www-form-urlencoded" }
      yield* send(app, `${prefix}/disconnect`, { method: "POST", user: "bob", headers, body })
      // The proof as a header: the platform's tracer records request headers on the server span.
      yield* send(app, `${prefix}/disconnect`, {
        method: "POST",
        user: "bob",
        headers: { [AuthorizationRoutes.disconnectTokenHeader]: proof }
      })
      const token = yield* Effect.flatMap(TokenStore.TokenStore, (store) => store.get(AccountId.make("alice")))
      yield* send(app, `${prefix}/disconnect`, { method: "POST", user: "alice", headers, body })

      expect(responses.map((sent) => sent.status)).toStrictEqual([303, 400, 400, 400, 502, 403, 403, 303])
      expect(Option.isSome(token)).toBe(true)
      if (Option.isNone(token)) return
      const canaries = [
        ...[ok, mine, theirs, refused, reset].map((flow) => codeOf(flow.callback)),
        Redacted.value(token.value.token.accessToken),
        Redacted.value(token.value.token.refreshToken),
        Redacted.value(H.FakeDropboxSign.defaultApp.clientSecret),
        Redacted.value(H.cookieKey),
        proof
      ]
      const shown = responses.map((sent) =>
        [...Object.entries(sent.headers), ...sent.setCookie.map((line) => ["set-cookie", line])].join("\n")
      )
      const haystack = [SecretCanary.dump(captured), ...shown, ...responses.map((sent) => sent.body)].join("\n")
      expect(SecretCanary.leaks(haystack, canaries)).toStrictEqual([])

      // The server span recorded the callback URL; the route put it back without the code.
      const serverSpans = captured.spans.filter((span) => span.name === "http.server GET")
      const callbackUrls = serverSpans.map((span) => span.attributes.get("url.full")).filter((url) =>
        typeof url === "string" && url.includes("/callback")
      )
      expect(callbackUrls).toHaveLength(5)
      for (const url of callbackUrls) expect(url).toContain("code=REDACTED")
      // HttpMiddleware.logger does not log callback URLs; the routes log their outcomes.
      expect(captured.logs.filter((line) => line.includes("/callback"))).toStrictEqual([])
      expect(captured.logs.filter((line) => line.includes("Dropbox Sign account connected"))).toHaveLength(1)
      expect(captured.logs.filter((line) => line.includes("authorization route failed"))).toHaveLength(6)
    }).pipe(Effect.provide(H.layer())))
})
