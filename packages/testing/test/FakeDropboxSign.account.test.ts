import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import { HttpClientRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"

import { decode, send, TokenBody } from "./utils/http.js"
import {
  account,
  AccountBody,
  apiUrl,
  authorize,
  errorName,
  exchange,
  refresh,
  tokens,
  withFake
} from "./utils/inMemory.js"

describe("FakeDropboxSign GET /v3/account (in-memory client)", () => {
  it.effect("answers the account for a valid token and 401 once it expired", () =>
    withFake(Effect.gen(function*() {
      const pair = yield* tokens()
      const answer = yield* account(pair.access_token)
      expect(answer.status).toBe(200)
      expect(yield* decode(AccountBody)(answer)).toEqual({
        account: expect.objectContaining({
          account_id: FakeDropboxSign.defaultAccount.accountId,
          email_address: FakeDropboxSign.defaultAccount.emailAddress
        })
      })
      yield* TestClock.adjust("1 hour")
      const expired = yield* account(pair.access_token)
      expect(expired.status).toBe(401)
      expect(yield* errorName(expired)).toMatchObject({ error_name: "unauthorized" })
      // The refresh token outlives it.
      const renewed = yield* refresh(pair.refresh_token).pipe(Effect.flatMap(decode(TokenBody)))
      expect((yield* account(renewed.access_token)).status).toBe(200)
    })))

  it.effect("answers 401 without a token, for an unknown one and after expireAllTokens", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      expect((yield* account()).status).toBe(401)
      expect((yield* account("unknown")).status).toBe(401)
      const pair = yield* tokens()
      yield* fake.expireAllTokens
      expect((yield* account(pair.access_token)).status).toBe(401)
      expect((yield* refresh(pair.refresh_token)).status).toBe(200)
    })))

  it.effect("returns the account that consented", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const other = yield* fake.registerAccount({ emailAddress: "other@example.com" })
      yield* fake.signIn(other.accountId)
      const code = new URL((yield* authorize("s")).headers["location"]!).searchParams.get("code")!
      const pair = yield* exchange(code, "s").pipe(Effect.flatMap(decode(TokenBody)))
      const body = yield* account(pair.access_token).pipe(Effect.flatMap(decode(AccountBody)))
      expect(body.account.email_address).toBe("other@example.com")
      // Revoking another account's grants leaves this one alone.
      expect(yield* fake.revokeGrant({ accountId: FakeDropboxSign.defaultAccount.accountId })).toBe(0)
      expect(yield* fake.revokeGrant({ accountId: other.accountId })).toBe(1)
    })))

  it.effect("answers 404 with an error body for paths it does not serve", () =>
    withFake(Effect.gen(function*() {
      const answer = yield* send(HttpClientRequest.get(`${apiUrl}/signature_request/list`))
      expect(answer.status).toBe(404)
      expect(yield* errorName(answer)).toMatchObject({ error_name: "not_found" })
      const [entry] = yield* (yield* FakeDropboxSign.FakeDropboxSign).requests
      expect(entry?.route).toBeUndefined()
    })))
})
