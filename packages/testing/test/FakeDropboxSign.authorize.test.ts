import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import { HttpClientRequest } from "@effect/platform"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"

import { decode, oauthUrl, send, TokenBody } from "./utils/http.js"
import { authorize, errorName, exchange, withFake } from "./utils/inMemory.js"

const { defaultApp } = FakeDropboxSign

describe("FakeDropboxSign consent (in-memory client)", () => {
  it.effect("redirects to the callback with a code and the state", () =>
    withFake(Effect.gen(function*() {
      const answer = yield* authorize("state-123")
      expect(answer.status).toBe(302)
      const location = new URL(answer.headers["location"]!)
      expect(location.origin + location.pathname).toBe(defaultApp.callbackUrl)
      expect(location.searchParams.get("state")).toBe("state-123")
      const code = location.searchParams.get("code")
      assert(code !== null && code.length >= 32)
      const body = yield* exchange(code, "state-123").pipe(Effect.flatMap(decode(TokenBody)))
      expect(body.state).toBe("state-123")
    })))

  it.effect("denies with error=access_denied, once per denyNextConsent and always when the app says so", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      yield* fake.denyNextConsent
      const denied = new URL((yield* authorize("s-deny")).headers["location"]!)
      expect(denied.searchParams.get("error")).toBe("access_denied")
      expect(denied.searchParams.get("state")).toBe("s-deny")
      expect(denied.searchParams.has("code")).toBe(false)
      const allowed = new URL((yield* authorize("s-allow")).headers["location"]!)
      expect(allowed.searchParams.has("code")).toBe(true)

      const app = yield* fake.registerApp({ consent: "deny", callbackUrl: "https://example.com/cb?x=1" })
      const byApp = new URL((yield* authorize("s-app", app.clientId)).headers["location"]!)
      expect(byApp.origin + byApp.pathname).toBe("https://example.com/cb")
      expect(byApp.searchParams.get("x")).toBe("1")
      expect(byApp.searchParams.get("error")).toBe("access_denied")
      const counters = yield* fake.counters
      expect(counters.consentsDenied).toBe(2)
      expect(counters.consentsGranted).toBe(1)
    })))

  it.effect("answers 400 for an unknown client", () =>
    withFake(Effect.gen(function*() {
      const answer = yield* authorize("s", "no-such-client")
      expect(answer.status).toBe(400)
      expect((yield* errorName(answer)).error_path).toBe("client_id")
      const missing = yield* send(HttpClientRequest.get(`${oauthUrl}/oauth/authorize?response_type=code&state=s`))
      expect(missing.status).toBe(400)
    })))
})
