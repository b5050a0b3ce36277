import { DropboxSignHttpClient, OAuthState, TokenManager } from "@dropbox-sign-effect/oauth"
import { FakeDropboxSign, SecretCanary, TestTime } from "@dropbox-sign-effect/testing"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Layer, Queue, Redacted } from "effect"

import * as Harness from "./harness.js"

const clientSecret = "CANARY-lifecycle-client-secret-93b1"

const layer = DropboxSignHttpClient.layer.pipe(
  Layer.provideMerge(
    Harness.layer({
      config: { clientSecret: Redacted.make(clientSecret) },
      fake: { defaultApp: { clientSecret, rotateRefreshTokens: true } }
    })
  )
)

describe("lifecycle secrets", () => {
  it.scoped("no secret in events, logs, spans or errors, across authorize, refresh, 401 and revocation", () =>
    Effect.gen(function*() {
      const tm = yield* TokenManager.TokenManager
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const http = (yield* DropboxSignHttpClient.DropboxSignHttpClient).forAccount()
      const events = yield* tm.subscribe
      const captured = SecretCanary.make()
      const secrets: Array<string> = [clientSecret]
      const outcomes: Array<unknown> = []

      const scenario = Effect.gen(function*() {
        const state = yield* OAuthState.make
        const code = yield* fake.issueCode({ state })
        secrets.push(Redacted.value(code))
        const token = yield* tm.authorize(Harness.alice, { code, state }, state)
        secrets.push(Redacted.value(token.accessToken), Redacted.value(token.refreshToken))
        const refreshed = yield* tm.refresh(Harness.alice)
        secrets.push(Redacted.value(refreshed.accessToken), Redacted.value(refreshed.refreshToken))
        outcomes.push(yield* Effect.exit(tm.authorize(Harness.alice, { code, state: "forged" }, state)))
        outcomes.push(yield* Effect.exit(tm.authorize(Harness.alice, { code, state }, state)))
        yield* fake.injectFault("refresh", FakeDropboxSign.Fault.Status({ status: 503 }), 5)
        yield* TestTime.adjust("1 hour")
        outcomes.push(yield* Effect.exit(TestTime.runWithClock(tm.accessToken(Harness.alice))))
        yield* fake.revokeGrant()
        yield* TestTime.adjust("1 hour")
        outcomes.push(yield* Effect.exit(TestTime.runWithClock(tm.accessToken(Harness.alice))))
        outcomes.push(yield* Effect.exit(http.get("/account")))
      })
      const exit = yield* TestTime.runWithClock(SecretCanary.capture(scenario, captured))
      expect(Exit.isSuccess(exit)).toBe(true)

      const published = Chunk.toReadonlyArray(yield* Queue.takeAll(events))
      expect(published.map((event) => event._tag)).toContain("ReauthorizationRequired")
      expect(published.map((event) => event._tag)).toContain("RefreshFailed")
      const everything = [
        SecretCanary.dump(captured),
        ...published.flatMap(SecretCanary.printedForms),
        ...outcomes.flatMap(SecretCanary.printedForms),
        ...(yield* fake.requests).flatMap(SecretCanary.printedForms)
      ].join("\n")
      expect(captured.logs.length).toBeGreaterThan(0)
      expect(secrets.length).toBe(6)
      expect(SecretCanary.leaks(everything, secrets)).toStrictEqual([])
    }).pipe(Effect.provide(layer)))
})
