import { OAuthApi, TokenManager } from "@dropbox-sign-effect/oauth"
import { FakeDropboxSign, TestTime } from "@dropbox-sign-effect/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Metric, TestClock } from "effect"

import * as Harness from "./harness.js"

const refreshes = (outcome: string) =>
  Effect.map(Metric.value(Metric.tagged(TokenManager.refreshesTotal, "outcome", outcome)), (state) => state.count)

const requests = (operation: string, outcome: string) =>
  Effect.map(
    Metric.value(OAuthApi.requestsTotal.pipe(Metric.tagged("operation", operation), Metric.tagged("outcome", outcome))),
    (state) => state.count
  )

describe("metrics", () => {
  it.scoped("count refreshes by outcome and token requests by operation and outcome", () =>
    Effect.gen(function*() {
      const tm = yield* TokenManager.TokenManager
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const before = {
        refreshed: yield* refreshes("refreshed"),
        failed: yield* refreshes("failed"),
        generated: yield* requests("oauthTokenGenerate", "ok"),
        refreshOk: yield* requests("oauthTokenRefresh", "ok"),
        serverErrors: yield* requests("oauthTokenRefresh", "ServerError")
      }
      yield* Harness.connect()
      yield* TestTime.runWithClock(tm.refresh())
      yield* fake.injectFault("refresh", FakeDropboxSign.Fault.Status({ status: 503 }), 5)
      yield* TestClock.adjust("2 hours")
      yield* TestTime.runWithClock(tm.accessToken())
      expect((yield* refreshes("refreshed")) - before.refreshed).toBe(1)
      expect((yield* refreshes("failed")) - before.failed).toBe(1)
      expect((yield* requests("oauthTokenGenerate", "ok")) - before.generated).toBe(1)
      expect((yield* requests("oauthTokenRefresh", "ok")) - before.refreshOk).toBe(1)
      expect((yield* requests("oauthTokenRefresh", "ServerError")) - before.serverErrors).toBe(5)
    }).pipe(Effect.provide(Harness.layer())))
})
