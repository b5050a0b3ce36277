import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Redacted, TestClock } from "effect"

import { decode, TokenBody } from "./utils/http.js"
import {
  account,
  authorize,
  awaitSleeper,
  errorName,
  exchange,
  refresh,
  RfcErrorBody,
  tokens,
  transportCode,
  withFake
} from "./utils/inMemory.js"

const { Fault } = FakeDropboxSign

describe("FakeDropboxSign faults (in-memory client)", () => {
  it.effect("Status: any status with either shape, consumed FIFO, `times` times", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const pair = yield* tokens()
      yield* fake.injectFault("refresh", Fault.Status({ status: 503 }), 2)
      yield* fake.injectFault("refresh", Fault.Status({ status: 400, errorName: "invalid_grant", shape: "rfc6749" }))
      const first = yield* refresh(pair.refresh_token)
      expect(first.status).toBe(503)
      expect(first.headers["x-ratelimit-limit"]).toBe("100")
      expect(yield* errorName(first)).toMatchObject({ error_name: "internal_server_error" })
      expect((yield* refresh(pair.refresh_token)).status).toBe(503)
      const third = yield* refresh(pair.refresh_token)
      expect(yield* decode(RfcErrorBody)(third)).toMatchObject({ error: "invalid_grant" })
      expect((yield* refresh(pair.refresh_token)).status).toBe(200)
      const counters = yield* fake.counters
      expect(counters).toMatchObject({ faultsInjected: 3, refreshRequests: 4, refreshesServed: 1, rejected: 0 })
      expect((yield* fake.requests).map((r) => r.fault)).toEqual([
        undefined,
        "Status",
        "Status",
        "Status",
        undefined
      ])
    })))

  it.effect("Status on other routes, with custom fields and headers", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      yield* fake.injectFault(
        "account",
        Fault.Status({ status: 403, errorMsg: "nope", errorPath: "x", headers: { "x-extra": "1" } })
      )
      const answer = yield* account("whatever")
      expect(answer.status).toBe(403)
      expect(answer.headers["x-extra"]).toBe("1")
      expect(yield* errorName(answer)).toEqual({ error_name: "forbidden", error_msg: "nope", error_path: "x" })
      yield* fake.injectFault("authorize", Fault.Status({ status: 500 }))
      expect((yield* authorize("s")).status).toBe(500)
    })))

  it.effect("RateLimited: Retry-After or X-Ratelimit-Reset, never both", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      yield* TestClock.adjust("1000 seconds")
      yield* fake.injectFault("token", Fault.RateLimited({ retryAfter: 7 }))
      yield* fake.injectFault("token", Fault.RateLimited({ resetAfter: 30 }))
      const retry = yield* exchange("c", "s")
      expect(retry.status).toBe(429)
      expect(retry.headers["retry-after"]).toBe("7")
      expect(retry.headers["x-ratelimit-reset"]).toBeUndefined()
      expect(yield* errorName(retry)).toMatchObject({ error_name: "exceeded_rate" })
      const reset = yield* exchange("c", "s")
      expect(reset.status).toBe(429)
      expect(reset.headers["retry-after"]).toBeUndefined()
      expect(reset.headers["x-ratelimit-reset"]).toBe("1030")
      expect(reset.headers["x-ratelimit-remaining"]).toBe("0")
    })))

  it.effect("Latency: answers after the delay, on the TestClock", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const code = Redacted.value(yield* fake.issueCode({ state: "s" }))
      yield* fake.injectFault("token", Fault.Latency({ duration: "2 seconds" }))
      const fiber = yield* Effect.fork(exchange(code, "s"))
      yield* awaitSleeper
      yield* TestClock.adjust("1 second")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 second")
      expect((yield* Fiber.join(fiber)).status).toBe(200)
    })))

  it.effect("Latency: a client that gives up does not stop the server from carrying the request out", () =>
    withFake(
      Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const pair = yield* tokens()
        yield* fake.injectFault("refresh", Fault.Latency({ duration: "5 seconds" }))
        const fiber = yield* Effect.fork(Effect.timeout(refresh(pair.refresh_token), "1 second"))
        yield* awaitSleeper
        yield* TestClock.adjust("1 second")
        const exit = yield* Fiber.await(fiber)
        expect(Exit.isFailure(exit) && String(exit.cause).includes("TimeoutException")).toBe(true)
        expect((yield* fake.counters).refreshesServed).toBe(0)
        yield* TestClock.adjust("4 seconds")
        expect((yield* fake.counters).refreshesServed).toBe(1)
        // Rotation happened on the server although the client never saw the answer.
        expect((yield* refresh(pair.refresh_token)).status).toBe(400)
      }),
      { defaultApp: { rotateRefreshTokens: true } }
    ))

  it.effect("ConnectionReset: a transport error with ECONNRESET; unprocessed keeps the code usable", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const code = Redacted.value(yield* fake.issueCode({ state: "s" }))
      yield* fake.injectFault("token", Fault.ConnectionReset({}))
      const error = yield* Effect.flip(exchange(code, "s"))
      expect(transportCode(error)).toBe("ECONNRESET")
      expect((yield* exchange(code, "s")).status).toBe(200)
      expect((yield* fake.counters).codesExchanged).toBe(1)
    })))

  it.effect("ConnectionReset({ processed: true }): the request took effect but the client never saw it", () =>
    withFake(
      Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const pair = yield* tokens()
        yield* fake.injectFault("refresh", Fault.ConnectionReset({ processed: true }))
        const error = yield* Effect.flip(refresh(pair.refresh_token))
        expect(transportCode(error)).toBe("ECONNRESET")
        // Rotation happened: the token the client still holds is dead.
        expect((yield* refresh(pair.refresh_token)).status).toBe(400)
        expect((yield* fake.counters).refreshesServed).toBe(1)
      }),
      { defaultApp: { rotateRefreshTokens: true } }
    ))

  it.effect("ConnectionRefused: ECONNREFUSED, nothing processed, logged or counted but the fault", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      yield* fake.injectFault("account", Fault.ConnectionRefused())
      const error = yield* Effect.flip(account("t"))
      expect(transportCode(error)).toBe("ECONNREFUSED")
      expect(yield* fake.requests).toHaveLength(0)
      expect(yield* fake.counters).toMatchObject({ requests: 0, accountRequests: 0, faultsInjected: 1 })
    })))

  it.effect("Hang: never answers; the client's timeout ends it", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const pair = yield* tokens()
      yield* fake.injectFault("refresh", Fault.Hang())
      const fiber = yield* Effect.fork(Effect.timeout(refresh(pair.refresh_token), "30 seconds"))
      yield* awaitSleeper
      yield* TestClock.adjust("29 seconds")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 second")
      const exit = yield* Fiber.await(fiber)
      expect(Exit.isFailure(exit) && String(exit.cause).includes("TimeoutException")).toBe(true)
      expect((yield* fake.counters).refreshesServed).toBe(0)
    })))

  it.effect("TruncatedJson: the request is processed, the body cut short", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const code = Redacted.value(yield* fake.issueCode({ state: "s" }))
      yield* fake.injectFault("token", Fault.TruncatedJson())
      const answer = yield* exchange(code, "s")
      expect(answer.status).toBe(200)
      expect(answer.headers["content-type"]).toBe("application/json")
      expect(() => JSON.parse(answer.text)).toThrow()
      expect(answer.text.startsWith("{\"access_token\":")).toBe(true)
      expect((yield* exchange(code, "s")).status).toBe(400)
    })))

  it.effect("HtmlPage: a proxy's HTML error page", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      yield* fake.injectFault("token", Fault.HtmlPage({}))
      yield* fake.injectFault("token", Fault.HtmlPage({ status: 504 }))
      const first = yield* exchange("c", "s")
      expect(first.status).toBe(502)
      expect(first.headers["content-type"]).toMatch(/^text\/html/)
      expect(first.text).toMatch(/<html>/)
      expect((yield* exchange("c", "s")).status).toBe(504)
    })))

  it.effect("WrongContentType: a valid token body sent as text/plain", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const code = Redacted.value(yield* fake.issueCode({ state: "s" }))
      yield* fake.injectFault("token", Fault.WrongContentType())
      const answer = yield* exchange(code, "s")
      expect(answer.status).toBe(200)
      expect(answer.headers["content-type"]).toMatch(/^text\/plain/)
      expect((yield* decode(TokenBody)(answer)).state).toBe("s")
    })))

  it.effect("RawBody: exactly the given status, body and content type", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      yield* fake.injectFault("token", Fault.RawBody({ status: 200, body: "[]", contentType: "application/json" }))
      const answer = yield* exchange("c", "s")
      expect(answer).toMatchObject({ status: 200, text: "[]" })
      expect(answer.headers["content-type"]).toBe("application/json")
    })))

  it.effect("clearFaults drops the queue; faults stay on their route", () =>
    withFake(Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      yield* fake.injectFault("refresh", Fault.Status({ status: 500 }))
      expect((yield* account()).status).toBe(401)
      yield* fake.clearFaults
      const pair = yield* tokens()
      expect((yield* refresh(pair.refresh_token)).status).toBe(200)
    })))
})
