import { DropboxSignHttpClient, TokenManager } from "@dropbox-sign-effect/oauth"
import { FakeDropboxSign, TestTime } from "@dropbox-sign-effect/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Redacted } from "effect"

import * as Harness from "./harness.js"

const layer = DropboxSignHttpClient.layer.pipe(Layer.provideMerge(Harness.layer()))

const getAccount = Effect.gen(function*() {
  const http = (yield* DropboxSignHttpClient.DropboxSignHttpClient).forAccount()
  const response = yield* http.get("/account")
  return { status: response.status, body: yield* response.json }
})

describe("DropboxSignHttpClient", () => {
  it.scoped("GET /account with the bearer token from the manager", () =>
    Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const token = yield* Harness.connect()
      const { body, status } = yield* getAccount
      expect(status).toBe(200)
      expect(body).toMatchObject({ account: { email_address: FakeDropboxSign.defaultAccount.emailAddress } })
      const [request] = (yield* fake.requests).filter((r) => r.route === "account")
      expect(request.path).toBe("/v3/account")
      const authorization = request.headers["authorization"]
      expect(typeof authorization === "string" ? authorization : Redacted.value(authorization)).toBe(
        `Bearer ${Redacted.value(token.accessToken)}`
      )
    }).pipe(Effect.provide(layer)))

  it.scoped("a 401 forces one refresh and one retry", () =>
    Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      yield* Harness.connect()
      // The server forgets the access token before the client expects it to.
      yield* fake.expireAllTokens
      const exit = yield* TestTime.runWithClock(getAccount)
      expect(Exit.isSuccess(exit) && exit.value.status).toBe(200)
      const c = yield* fake.counters
      expect(c.refreshesServed).toBe(1)
      expect(c.accountRequests).toBe(2)
    }).pipe(Effect.provide(layer)))

  it.scoped("a second 401 surfaces as an error, after exactly one refresh", () =>
    Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      yield* Harness.connect()
      yield* fake.injectFault("account", FakeDropboxSign.Fault.Status({ status: 401, errorName: "unauthorized" }), 2)
      const exit = yield* TestTime.runWithClock(getAccount)
      const error = TestTime.failureOf(exit)
      expect(error._tag).toBe("ResponseError")
      expect(error.message).toContain("401")
      const c = yield* fake.counters
      expect(c.refreshesServed).toBe(1)
      expect(c.accountRequests).toBe(2)
    }).pipe(Effect.provide(layer)))

  it.scoped("a revoked grant surfaces as ReauthorizationRequiredError", () =>
    Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      yield* Harness.connect()
      yield* fake.revokeGrant()
      const exit = yield* TestTime.runWithClock(getAccount)
      expect(TestTime.failureOf(exit)._tag).toBe("ReauthorizationRequiredError")
      expect((yield* (yield* TokenManager.TokenManager).accessToken().pipe(Effect.flip))._tag).toBe(
        "ReauthorizationRequiredError"
      )
    }).pipe(Effect.provide(layer)))
})
