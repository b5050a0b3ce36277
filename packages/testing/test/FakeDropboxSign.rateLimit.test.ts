import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"

import { refresh, tokens, withFake } from "./utils/inMemory.js"

describe("FakeDropboxSign rate limit (in-memory client)", () => {
  it.effect("counts down per window and can be enforced", () =>
    withFake(
      Effect.gen(function*() {
        const fake = yield* FakeDropboxSign.FakeDropboxSign
        const pair = yield* tokens()
        const second = yield* refresh(pair.refresh_token)
        expect(second.headers["x-ratelimit-remaining"]).toBe("0")
        const third = yield* refresh(pair.refresh_token)
        expect(third.status).toBe(429)
        expect(third.headers["x-ratelimit-reset"]).toBe("10")
        yield* TestClock.adjust("10 seconds")
        const next = yield* refresh(pair.refresh_token)
        expect(next.status).toBe(200)
        expect(next.headers["x-ratelimit-remaining"]).toBe("1")
        expect((yield* fake.counters).rejected).toBe(1)
      }),
      { rateLimit: { limit: 2, window: "10 seconds", enforce: true } }
    ))
})
