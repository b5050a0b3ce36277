import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import type { HttpClient } from "@effect/platform"
import { HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"

import { hiddenFields, redirectParams, submitConsent } from "./utils/consent.js"
import { authorizeRequest, decode, DropboxErrorBody, exchangeRequest, oauthUrl, send, TokenBody } from "./utils/http.js"

const { defaultAccount, defaultApp, Fault } = FakeDropboxSign

const pageOptions: FakeDropboxSign.Options = { defaultApp: { consent: "page" } }

type FakeServices = FakeDropboxSign.FakeDropboxSign | HttpClient.HttpClient

const withFake = <A, E>(effect: Effect.Effect<A, E, FakeServices>, options: FakeDropboxSign.Options = pageOptions) =>
  Effect.provide(effect, FakeDropboxSign.layerClientWith(options))

/** Opens the consent page and returns it with the form's hidden fields. */
const openPage = (baseUrl: string, state: string, clientId?: string) =>
  Effect.gen(function*() {
    const page = yield* send(authorizeRequest(baseUrl, state, clientId))
    expect(page.status).toBe(200)
    return { page, fields: hiddenFields(page.text) }
  })

/** Consents on a page and exchanges the code the callback receives. */
const consentAndExchange = (baseUrl: string, state: string) =>
  Effect.gen(function*() {
    const { fields } = yield* openPage(baseUrl, state)
    const answer = yield* submitConsent(baseUrl, fields, "allow")
    expect(answer.status).toBe(302)
    const location = new URL(answer.headers["location"]!)
    expect(location.origin + location.pathname).toBe(defaultApp.callbackUrl)
    expect(location.searchParams.get("state")).toBe(state)
    const code = location.searchParams.get("code")
    assert(code !== null)
    return yield* send(exchangeRequest(baseUrl, code, state)).pipe(Effect.flatMap(decode(TokenBody)))
  })

describe("FakeDropboxSign consent page (in-memory client)", () => {
  it.effect("shows the app's name, the account's email and a form with Authorize and Deny", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const { fields, page } = yield* openPage(oauthUrl, "st-page")
      expect(page.headers["content-type"]).toBe("text/html; charset=utf-8")
      expect(page.headers["cache-control"]).toBe("no-store")
      expect(page.text).toMatch(/^<!DOCTYPE html>/)
      expect(defaultApp.name).toBe("Dropbox Sign Test App")
      expect(page.text).toContain(`<span id="app-name">Dropbox Sign Test App</span>`)
      expect(page.text).toContain(`<span id="account-email">${defaultAccount.emailAddress}</span>`)
      expect(page.text).toContain(`<form method="post" action="/oauth/authorize">`)
      expect(page.text).toContain(`<button type="submit" name="decision" value="allow">Authorize</button>`)
      expect(page.text).toContain(`<button type="submit" name="decision" value="deny">Deny</button>`)
      expect(Object.keys(fields).sort()).toEqual(["client_id", "consent_id", "state"])
      expect(fields["client_id"]).toBe(defaultApp.clientId)
      expect(fields["state"]).toBe("st-page")
      expect(fields["consent_id"]!.length).toBeGreaterThanOrEqual(32)
      // A second page gets its own consent id.
      expect((yield* openPage(oauthUrl, "st-page")).fields["consent_id"]).not.toBe(fields["consent_id"])
      // Showing a page decides nothing.
      expect(yield* fake.counters).toMatchObject({ authorizeRequests: 2, consentsGranted: 0, consentsDenied: 0 })
    })))

  it.effect("shows a registered app's name and the signed-in account", () =>
    withFake(
      Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const app = yield* fake.registerApp({ name: "Acme Contracts", consent: "page" })
        expect(app.name).toBe("Acme Contracts")
        const account = yield* fake.registerAccount({ emailAddress: "jill@example.org" })
        yield* fake.signIn(account.accountId)
        const { page } = yield* openPage(oauthUrl, "s", app.clientId)
        expect(page.text).toContain(`<span id="app-name">Acme Contracts</span>`)
        expect(page.text).toContain(`<span id="account-email">jill@example.org</span>`)
        // The app's own mode: the default app still answers at once.
        expect((yield* send(authorizeRequest(oauthUrl, "s"))).status).toBe(302)
      }),
      {}
    ))

  it.effect("escapes everything it interpolates: a hostile app name, email and state", () =>
    withFake(
      Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const account = yield* fake.registerAccount({ emailAddress: `"><img src=x onerror=alert(1)>@example.com` })
        yield* fake.signIn(account.accountId)
        const state = `"><script>steal()</script>&'`
        const { fields, page } = yield* openPage(oauthUrl, state)
        expect(page.text).not.toContain("<script>")
        expect(page.text).not.toContain("<img")
        expect(page.text).toContain(
          `<span id="app-name">&lt;/title&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Co&#39;</span>`
        )
        expect(page.text).toContain(`&quot;&gt;&lt;img src=x onerror=alert(1)&gt;@example.com`)
        // The escaped state reaches the browser intact and comes back through the callback.
        expect(fields["state"]).toBe(state)
        const answer = yield* submitConsent(oauthUrl, fields, "allow")
        expect(redirectParams(answer).get("state")).toBe(state)
      }),
      { defaultApp: { consent: "page", name: `</title><script>alert("x")</script> & 'Co'` } }
    ))

  it.effect("Authorize redirects to the callback with a code that exchanges for tokens", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const pair = yield* consentAndExchange(oauthUrl, "st-allow")
      expect(pair.state).toBe("st-allow")
      expect(yield* fake.counters).toMatchObject({
        authorizeRequests: 1,
        consentsGranted: 1,
        consentsDenied: 0,
        codesExchanged: 1
      })
      const grants = yield* fake.grants
      expect(grants.map((grant) => grant.accountId)).toEqual([defaultAccount.accountId])
      // The form's POST is logged on the authorize route, its consent id redacted.
      const posted = (yield* fake.requests).filter((request) =>
        request.method === "POST" && request.route === "authorize"
      )
      expect(posted.length).toBe(1)
      const consentId = posted[0]!.body["consent_id"]
      assert(Redacted.isRedacted(consentId))
      expect(posted[0]!.body["decision"]).toBe("allow")
    })))

  it.effect("Deny redirects with error=access_denied and the state, and no code", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const { fields } = yield* openPage(oauthUrl, "st-deny")
      const answer = yield* submitConsent(oauthUrl, fields, "deny")
      expect(answer.status).toBe(302)
      const params = redirectParams(answer)
      expect(params.get("error")).toBe("access_denied")
      expect(params.get("state")).toBe("st-deny")
      expect(params.has("code")).toBe(false)
      expect(yield* fake.counters).toMatchObject({ consentsGranted: 0, consentsDenied: 1 })
      expect(yield* fake.grants).toEqual([])
    })))

  it.effect("refuses a replayed, forged or altered form with an error page, and changes nothing", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const { fields } = yield* openPage(oauthUrl, "st-1")
      const refused = (answer: { readonly status: number; readonly headers: Readonly<Record<string, string>> }) => {
        expect(answer.headers["content-type"]).toBe("text/html; charset=utf-8")
        expect(answer.headers["location"]).toBeUndefined()
        return answer.status
      }
      const forged = yield* submitConsent(oauthUrl, { ...fields, consent_id: "forged-consent-id" }, "allow")
      expect(refused(forged)).toBe(403)
      expect(forged.text).toContain("This consent request is not known.")
      const otherState = yield* submitConsent(oauthUrl, { ...fields, state: "st-2" }, "allow")
      expect(refused(otherState)).toBe(403)
      const otherClient = yield* submitConsent(oauthUrl, { ...fields, client_id: "another-client" }, "allow")
      expect(refused(otherClient)).toBe(403)
      const noId = yield* submitConsent(oauthUrl, { client_id: fields["client_id"]!, state: "st-1" }, "allow")
      expect(refused(noId)).toBe(400)
      const noDecision = yield* send(
        HttpClientRequest.post(`${oauthUrl}/oauth/authorize`).pipe(HttpClientRequest.bodyUrlParams(fields))
      )
      expect(refused(noDecision)).toBe(400)
      // None of them used the consent up: the genuine form still works, once.
      expect(yield* fake.counters).toMatchObject({ consentsGranted: 0, consentsDenied: 0, rejected: 5 })
      const genuine = yield* submitConsent(oauthUrl, fields, "allow")
      expect(genuine.status).toBe(302)
      const replayedAllow = yield* submitConsent(oauthUrl, fields, "allow")
      expect(refused(replayedAllow)).toBe(403)
      expect(replayedAllow.text).toContain("already answered")
      const replayedDeny = yield* submitConsent(oauthUrl, fields, "deny")
      expect(refused(replayedDeny)).toBe(403)
      expect(yield* fake.counters).toMatchObject({ consentsGranted: 1, consentsDenied: 0, rejected: 7 })
      expect((yield* fake.grants).length).toBe(0)
    })))

  it.effect("faults on the authorize route apply to the page's GET, not to its form", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      yield* fake.injectFault("authorize", Fault.Status({ status: 503 }))
      expect((yield* send(authorizeRequest(oauthUrl, "s"))).status).toBe(503)
      const { fields } = yield* openPage(oauthUrl, "s")
      yield* fake.injectFault("authorize", Fault.Status({ status: 500 }))
      expect((yield* submitConsent(oauthUrl, fields, "allow")).status).toBe(302)
      expect((yield* send(authorizeRequest(oauthUrl, "s"))).status).toBe(500)
      expect(yield* fake.counters).toMatchObject({ authorizeRequests: 3, faultsInjected: 2 })
    })))

  it.effect("denyNextConsent answers at once, before any page", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      yield* fake.denyNextConsent
      const denied = yield* send(authorizeRequest(oauthUrl, "s-deny"))
      expect(denied.status).toBe(302)
      expect(redirectParams(denied).get("error")).toBe("access_denied")
      expect((yield* openPage(oauthUrl, "s-next")).fields["state"]).toBe("s-next")
      expect((yield* fake.counters).consentsDenied).toBe(1)
    })))

  it.effect("keeps the errors of invalid authorize requests", () =>
    withFake(Effect.gen(function*() {
      const unknown = yield* send(authorizeRequest(oauthUrl, "s", "no-such-client"))
      expect(unknown.status).toBe(400)
      expect((yield* decode(DropboxErrorBody)(unknown)).error.error_path).toBe("client_id")
      const noState = yield* send(
        HttpClientRequest.get(`${oauthUrl}/oauth/authorize`, {
          urlParams: { response_type: "code", client_id: defaultApp.clientId }
        })
      )
      expect(noState.status).toBe(400)
      expect((yield* decode(DropboxErrorBody)(noState)).error.error_path).toBe("state")
      const token = yield* send(
        HttpClientRequest.get(`${oauthUrl}/oauth/authorize`, {
          urlParams: { response_type: "token", client_id: defaultApp.clientId, state: "s" }
        })
      )
      expect(token.status).toBe(302)
      expect(redirectParams(token).get("error")).toBe("unsupported_response_type")
    })))

  it.effect("updateApp switches an app to the page and back", () =>
    withFake(
      Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        expect((yield* send(authorizeRequest(oauthUrl, "s"))).status).toBe(302)
        const updated = yield* fake.updateApp(defaultApp.clientId, { consent: "page", name: "Renamed" })
        expect(updated).toMatchObject({ consent: "page", name: "Renamed" })
        expect((yield* openPage(oauthUrl, "s")).page.text).toContain(`<span id="app-name">Renamed</span>`)
        yield* fake.updateApp(defaultApp.clientId, { consent: "allow" })
        expect((yield* send(authorizeRequest(oauthUrl, "s"))).status).toBe(302)
      }),
      {}
    ))
})

describe("FakeDropboxSign consent page (loopback server)", () => {
  const withServer = <A, E>(
    effect: Effect.Effect<A, E, FakeServices | FakeDropboxSign.FakeDropboxSignServer>
  ) => Effect.provide(effect, Layer.merge(FakeDropboxSign.layerServer(pageOptions), NodeHttpClient.layerUndici))

  const serverUrl = Effect.map(FakeDropboxSign.FakeDropboxSignServer, (server) => server.oauthUrl)

  it.live("Authorize: page, form, callback, tokens", () =>
    withServer(Effect.gen(function*() {
      const url = yield* serverUrl
      const pair = yield* consentAndExchange(url, "loop-allow")
      expect(pair.state).toBe("loop-allow")
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      expect(yield* fake.counters).toMatchObject({ consentsGranted: 1, codesExchanged: 1 })
    })))

  it.live("Deny, and a replayed or forged form refused", () =>
    withServer(Effect.gen(function*() {
      const url = yield* serverUrl
      const { fields, page } = yield* openPage(url, "loop-deny")
      expect(page.headers["content-type"]).toBe("text/html; charset=utf-8")
      const denied = yield* submitConsent(url, fields, "deny")
      expect(denied.status).toBe(302)
      expect(redirectParams(denied).get("error")).toBe("access_denied")
      expect(redirectParams(denied).get("state")).toBe("loop-deny")
      const replayed = yield* submitConsent(url, fields, "allow")
      expect(replayed.status).toBe(403)
      expect(replayed.headers["content-type"]).toBe("text/html; charset=utf-8")
      const forged = yield* submitConsent(url, { ...fields, consent_id: "x".repeat(43) }, "allow")
      expect(forged.status).toBe(403)
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      expect(yield* fake.counters).toMatchObject({ consentsGranted: 0, consentsDenied: 1, rejected: 2 })
    })))
})
