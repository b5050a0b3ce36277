import { OAuthClient, OAuthConfig, OAuthState } from "@dropbox-sign-effect/oauth"
import { FakeDropboxSign, SecretCanary as Capture, TestTime } from "@dropbox-sign-effect/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer, Redacted } from "effect"

const { Fault } = FakeDropboxSign

const canary = {
  clientSecret: "CANARY-client-secret-7f3a",
  code: "CANARY-code-19bc",
  accessToken: "CANARY-access-token-55e1",
  refreshToken: "CANARY-refresh-token-a0d4"
}
const canaries = Object.values(canary)

const expectNoCanary = (text: string) => {
  for (const secret of canaries) expect(text).not.toContain(secret)
}

const tokenBody = {
  access_token: canary.accessToken,
  refresh_token: canary.refreshToken,
  token_type: "Bearer",
  expires_in: 3600
}

/** A raw answer of the fake: exactly this status and JSON body, whatever was asked. */
const json = (status: number, body: unknown) =>
  Fault.RawBody({ status, body: JSON.stringify(body), contentType: "application/json" })

const echo = (secret: string) =>
  json(400, { error: { error_msg: `bad ${secret} (${canary.clientSecret})`, error_name: "bad_request" } })

/** Each scenario: the fault answering the code exchange, and the one answering the refresh (the same by default). */
const scenarios: ReadonlyArray<readonly [string, FakeDropboxSign.Fault, FakeDropboxSign.Fault?]> = [
  ["success", json(200, tokenBody)],
  ["errors echoing the secrets that were sent", echo(canary.code), echo(canary.refreshToken)],
  ["an RFC 6749 error", json(400, { error: "invalid_grant", error_description: "revoked" })],
  [
    "a server error echoing the body",
    Fault.RawBody({ status: 500, body: JSON.stringify({ client_secret: canary.clientSecret }) })
  ],
  ["a decode failure with tokens in the body", json(200, { ...tokenBody, expires_in: canary.accessToken })],
  ["an empty access token", json(200, { ...tokenBody, access_token: "" })],
  ["a truncated body", Fault.RawBody({ status: 200, body: JSON.stringify(tokenBody).slice(0, 50) })],
  ["a rate limit", Fault.RateLimited({ retryAfter: 9999 })],
  ["a reset connection", Fault.ConnectionReset({})],
  ["a refused connection", Fault.ConnectionRefused()]
]

describe("secrets never leak", () => {
  for (const [name, fault, refreshFault] of scenarios) {
    it.effect(`through errors, logs and spans: ${name}`, () =>
      Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        // Enough of each for the retries a scenario allows: the fake answers with the fault every time.
        yield* fake.injectFault("token", fault, 10)
        yield* fake.injectFault("refresh", refreshFault ?? fault, 10)
        const config = OAuthConfig.layer({ clientId: "client-id", clientSecret: Redacted.make(canary.clientSecret) })
        const captured = Capture.make()
        const run = Effect.gen(function*() {
          const client = yield* OAuthClient.OAuthClient
          const exchanged = yield* Effect.either(client.exchangeCode({ code: canary.code, state: "state" }))
          const refreshed = yield* Effect.either(client.refresh(Redacted.make(canary.refreshToken)))
          yield* Effect.logInfo("results", exchanged, refreshed)
          return [exchanged, refreshed] as const
        }).pipe(Effect.provide(OAuthClient.layerWithApi.pipe(Layer.provide(config))))
        const fiber = yield* Effect.fork(Capture.capture(run, captured))
        const exit = yield* TestTime.advanceUntilDone(fiber, "1 second")
        expect(exit._tag).toBe("Success")
        if (exit._tag !== "Success") return
        for (const result of exit.value) {
          const value = Either.isLeft(result) ? result.left : result.right
          for (const form of Capture.printedForms(value)) expectNoCanary(form)
        }
        expect(captured.spans.map((span) => span.name)).toContain("OAuthApi.oauthTokenRefresh")
        expectNoCanary(Capture.dump(captured))
      }).pipe(Effect.provide(FakeDropboxSign.layerClient)))
  }

  it("OAuthState callbacks keep the code redacted in every printed form", () => {
    const result = OAuthState.parseCallback(`http://127.0.0.1/cb?code=${canary.code}&state=s`, "s")
    expect(Either.isRight(result)).toBe(true)
    for (const form of Capture.printedForms(result)) expectNoCanary(form)
  })

  it.effect("config never prints the client secret", () =>
    Effect.gen(function*() {
      const config = yield* OAuthConfig.make({ clientId: "id", clientSecret: Redacted.make(canary.clientSecret) })
      for (const form of Capture.printedForms(config)) expectNoCanary(form)
    }))
})
