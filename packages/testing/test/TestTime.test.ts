import { TestTime } from "@dropbox-sign-effect/testing"
import { assert, describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Exit, Fiber, TestClock } from "effect"

const hour = Duration.toMillis("1 hour")

describe("TestTime", () => {
  it.effect("a flow that moves the clock while runWithClock drives it never sends time backwards", () =>
    Effect.gen(function*() {
      const flow = Effect.gen(function*() {
        // Woken by one of the driver's steps, and moving the clock while that step is still finishing.
        yield* Effect.sleep("50 millis")
        yield* TestTime.adjust("1 hour")
        const moved = yield* Clock.currentTimeMillis
        yield* Effect.sleep("1 second")
        return { moved, woke: yield* Clock.currentTimeMillis }
      })
      const fiber = yield* Effect.fork(flow)
      // About 11 steps of 100 ms finish the flow; had the clock gone back an hour, 36,000 would not.
      const exit = yield* TestTime.advanceUntilDone(fiber, "100 millis", 100)
      assert(Exit.isSuccess(exit), `the flow did not finish: ${String(exit)}`)
      expect(exit.value.moved).toBeGreaterThanOrEqual(50 + hour)
      expect(exit.value.woke).toBeGreaterThanOrEqual(exit.value.moved + 1000)
    }))

  it.effect("concurrent moves add up: one waits for the other", () =>
    Effect.gen(function*() {
      // Woken half-way through the first move, the sleeper moves the clock one more minute.
      const sleeper = yield* Effect.fork(
        Effect.zipRight(Effect.sleep("30 minutes"), TestTime.adjust("1 minute"))
      )
      yield* TestTime.flushIo
      yield* TestTime.adjust("1 hour")
      yield* Fiber.join(sleeper)
      expect(yield* Clock.currentTimeMillis).toBe(hour + Duration.toMillis("1 minute"))
    }))

  it.effect("runWithClock returns the exit of an effect that waits on time", () =>
    Effect.gen(function*() {
      const exit = yield* TestTime.runWithClock(Effect.as(Effect.sleep("3 seconds"), "done"), "1 second")
      expect(exit).toStrictEqual(Exit.succeed("done"))
      expect(yield* Clock.currentTimeMillis).toBe(3000)
    }))

  it.effect("advanceUntilDone dies after maxSteps instead of waiting forever", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(Effect.never)
      const exit = yield* Effect.exit(TestTime.advanceUntilDone(fiber, "1 second", 5))
      assert(Exit.isFailure(exit))
      expect(String(exit.cause)).toContain("fiber still running after 5 steps of 1s")
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("adjustGradually moves the clock step by step to the exact total", () =>
    Effect.gen(function*() {
      const woken: Array<number> = []
      for (const at of [500, 1500, 2500]) {
        yield* Effect.fork(Effect.zipRight(
          Effect.sleep(Duration.millis(at)),
          Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => woken.push(now)))
        ))
      }
      yield* TestTime.flushIo
      yield* TestTime.adjustGradually("2750 millis", "1 second")
      expect(yield* Clock.currentTimeMillis).toBe(2750)
      expect(woken).toStrictEqual([500, 1500, 2500])
      expect(yield* TestClock.sleeps()).toHaveLength(0)
    }))

  it("failureOf returns a plain failure and throws otherwise", () => {
    expect(TestTime.failureOf(Exit.fail("boom"))).toBe("boom")
    expect(() => TestTime.failureOf(Exit.succeed(1))).toThrow(/expected a failure/)
  })
})
