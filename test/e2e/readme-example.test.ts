/**
 * The README's testing example, kept compiling and passing: if this breaks, the README is wrong.
 */
import { AccountId, OAuthConfig, OAuthState, TokenManager, TokenStore } from "@dropbox-sign-effect/oauth"
import { FakeDropboxSign, TestTime } from "@dropbox-sign-effect/testing"
import { expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, TestClock } from "effect"

const TestLayer = TokenManager.layerWithClient().pipe(
  Layer.provideMerge(TokenStore.layerMemory),
  Layer.provideMerge(OAuthConfig.layer({
    clientId: FakeDropboxSign.defaultApp.clientId,
    clientSecret: FakeDropboxSign.defaultApp.clientSecret
  })),
  Layer.provideMerge(FakeDropboxSign.layerClient)
)

it.scoped("README: refreshes an expired token once", () =>
  Effect.gen(function*() {
    const fake = yield* FakeDropboxSign.FakeDropboxSign
    const tokens = yield* TokenManager.TokenManager
    const state = yield* OAuthState.make
    const alice = AccountId.make("alice")
    yield* tokens.authorize(alice, { code: yield* fake.issueCode({ state }), state }, state)
    yield* fake.injectFault("refresh", FakeDropboxSign.Fault.Status({ status: 503 }))
    yield* TestClock.adjust("1 hour")
    const exit = yield* TestTime.runWithClock(tokens.accessToken(alice))
    expect(Exit.isSuccess(exit)).toBe(true)
    expect((yield* fake.counters).refreshRequests).toBe(2)
    expect((yield* fake.counters).refreshesServed).toBe(1)
  }).pipe(Effect.provide(TestLayer)))
