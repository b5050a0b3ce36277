import * as Util from "node:util"

import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"

import { decode, oauthUrl, send, TokenBody, tokenRequest } from "./utils/http.js"
import { account, authorize, refresh, tokens, withFake } from "./utils/inMemory.js"

const { Fault } = FakeDropboxSign

describe("FakeDropboxSign request log (in-memory client)", () => {
  it.effect("never prints a secret; the values stay readable through Redacted", () => {
    const canarySecret = "canary-client-secret-5f1d2c"
    return withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const app = yield* fake.registerApp({ clientSecret: canarySecret })
      const code = Redacted.value(yield* fake.issueCode({ clientId: app.clientId, state: "s" }))
      const fields = { grant_type: "authorization_code", client_id: app.clientId, client_secret: canarySecret }
      const pair = yield* send(tokenRequest(oauthUrl, { ...fields, code, state: "s" }, { encoding: "form" })).pipe(
        Effect.flatMap(decode(TokenBody))
      )
      yield* send(tokenRequest(oauthUrl, {
        grant_type: "refresh_token",
        refresh_token: pair.refresh_token,
        client_id: app.clientId,
        client_secret: canarySecret
      }, { refresh: true, encoding: "multipart" }))
      yield* account(pair.access_token)

      const log = yield* fake.requests
      expect(log.map((r) => r.route)).toEqual(["token", "refresh", "account"])
      const printed = [
        JSON.stringify(log),
        Util.inspect(log, { depth: Infinity }),
        String(log),
        log.map((r) => `${r.body["client_secret"]} ${r.headers["authorization"]}`).join()
      ].join("\n")
      for (const secret of [canarySecret, code, pair.access_token, pair.refresh_token]) {
        expect(printed).not.toContain(secret)
      }
      const [exchanged, refreshed, accountRequest] = log
      const secretOf = (value: unknown) => Redacted.isRedacted(value) ? Redacted.value(value) : undefined
      expect(secretOf(exchanged!.body["client_secret"])).toBe(canarySecret)
      expect(secretOf(exchanged!.body["code"])).toBe(code)
      expect(exchanged!.body["client_id"]).toBe(app.clientId)
      expect(secretOf(refreshed!.body["refresh_token"])).toBe(pair.refresh_token)
      expect(secretOf(accountRequest!.headers["authorization"])).toBe(`Bearer ${pair.access_token}`)
      expect(refreshed!.path).toBe("/oauth/token?refresh")
    }))
  })

  it.effect("counts and resets", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      yield* authorize("s")
      const pair = yield* tokens()
      yield* refresh(pair.refresh_token)
      yield* account(pair.access_token)
      yield* fake.injectFault("account", Fault.Status({ status: 500 }))
      yield* account(pair.access_token)
      expect(yield* fake.counters).toEqual({
        requests: 5,
        authorizeRequests: 1,
        consentsGranted: 1,
        consentsDenied: 0,
        tokenRequests: 1,
        codesExchanged: 1,
        refreshRequests: 1,
        refreshesServed: 1,
        accountRequests: 2,
        rejected: 0,
        faultsInjected: 1
      })
      yield* fake.resetLog
      expect(yield* fake.requests).toHaveLength(0)
      expect((yield* fake.counters).requests).toBe(0)
    })))

  it.effect("logRequests: false keeps counting without logging", () =>
    withFake(
      Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        yield* account()
        expect(yield* fake.requests).toHaveLength(0)
        expect((yield* fake.counters).accountRequests).toBe(1)
      }),
      { logRequests: false }
    ))
})
