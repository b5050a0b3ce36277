import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"

import { decode, exchangeFields, oauthUrl, refreshFields, send, TokenBody, tokenRequest } from "./utils/http.js"
import { account, errorName, refresh, tokens, withFake } from "./utils/inMemory.js"

const { defaultApp } = FakeDropboxSign

describe("FakeDropboxSign refresh (in-memory client)", () => {
  it.effect("without rotation keeps the refresh token and issues new access tokens", () =>
    withFake(Effect.gen(function*() {
      const first = yield* tokens()
      const answer = yield* refresh(first.refresh_token)
      expect(answer.status).toBe(200)
      expect(answer.headers["x-ratelimit-limit"]).toBe("100")
      const second = yield* decode(TokenBody)(answer)
      expect(second.refresh_token).toBe(first.refresh_token)
      expect(second.access_token).not.toBe(first.access_token)
      expect(second.state).toBeNull()
      const third = yield* refresh(first.refresh_token).pipe(Effect.flatMap(decode(TokenBody)))
      expect(third.refresh_token).toBe(first.refresh_token)
      const counters = yield* (yield* FakeDropboxSign.FakeDropboxSign).counters
      expect(counters).toMatchObject({ refreshRequests: 2, refreshesServed: 2, tokenRequests: 1, codesExchanged: 1 })
    })))

  it.effect("with rotation issues a new refresh token and rejects the old one", () =>
    withFake(
      Effect.gen(function*() {
        const first = yield* tokens()
        const second = yield* refresh(first.refresh_token).pipe(Effect.flatMap(decode(TokenBody)))
        expect(second.refresh_token).not.toBe(first.refresh_token)
        const old = yield* refresh(first.refresh_token)
        expect(old.status).toBe(400)
        expect(yield* errorName(old)).toMatchObject({ error_name: "invalid_grant", error_path: "refresh_token" })
        expect((yield* refresh(second.refresh_token)).status).toBe(200)
      }),
      { defaultApp: { rotateRefreshTokens: true } }
    ))

  it.effect("requires client credentials when the app does, and not otherwise", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const pair = yield* tokens()
      const bare = tokenRequest(oauthUrl, { grant_type: "refresh_token", refresh_token: pair.refresh_token }, {
        refresh: true
      })
      const required = yield* send(bare)
      expect(required.status).toBe(401)
      expect(yield* errorName(required)).toMatchObject({ error_name: "unauthorized", error_path: "client_id" })
      const wrong = yield* refresh(pair.refresh_token, { client_secret: "wrong" })
      expect(yield* errorName(wrong)).toMatchObject({ error_name: "unauthorized", error_path: "client_secret" })

      yield* fake.updateApp(defaultApp.clientId, { requireClientCredentialsOnRefresh: false })
      expect((yield* send(bare)).status).toBe(200)
      // Credentials, when sent, are still checked.
      expect((yield* refresh(pair.refresh_token, { client_secret: "wrong" })).status).toBe(401)
    })))

  it.effect("rejects a refresh on the plain token endpoint and a code exchange on ?refresh", () =>
    withFake(Effect.gen(function*() {
      const pair = yield* tokens()
      const plain = yield* send(tokenRequest(oauthUrl, refreshFields(pair.refresh_token)))
      expect(yield* errorName(plain)).toMatchObject({ error_path: "grant_type" })
      const flagged = yield* send(tokenRequest(oauthUrl, exchangeFields("c", "s"), { refresh: true }))
      expect(yield* errorName(flagged)).toMatchObject({ error_path: "grant_type" })
    })))

  it.effect("a revoked grant rejects its refresh and access tokens", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const pair = yield* tokens()
      expect(yield* fake.revokeGrant({ clientId: defaultApp.clientId })).toBe(1)
      const answer = yield* refresh(pair.refresh_token)
      expect(yield* errorName(answer)).toMatchObject({ error_name: "invalid_grant" })
      expect((yield* account(pair.access_token)).status).toBe(401)
      // A new authorization works again.
      expect((yield* account((yield* tokens()).access_token)).status).toBe(200)
    })))

  it.effect("serves 1,000 concurrent refreshes; with rotation exactly one wins", () =>
    Effect.gen(function*() {
      const plain = yield* withFake(Effect.gen(function*() {
        const pair = yield* tokens()
        const answers = yield* Effect.forEach(
          Array.from({ length: 1000 }),
          () => refresh(pair.refresh_token),
          { concurrency: "unbounded" }
        )
        return {
          statuses: answers.map((a) => a.status),
          counters: yield* (yield* FakeDropboxSign.FakeDropboxSign).counters
        }
      }))
      expect(plain.statuses.every((s) => s === 200)).toBe(true)
      expect(plain.counters.refreshesServed).toBe(1000)

      const rotating = yield* withFake(
        Effect.gen(function*() {
          const pair = yield* tokens()
          return yield* Effect.forEach(Array.from({ length: 1000 }), () => refresh(pair.refresh_token), {
            concurrency: "unbounded"
          })
        }),
        { defaultApp: { rotateRefreshTokens: true } }
      )
      expect(rotating.filter((a) => a.status === 200)).toHaveLength(1)
    }))
})
