import type { Fiber } from "effect"
import { Duration, Effect, Option, TestClock } from "effect"

/** Lets pending I/O callbacks (response bodies are read through promises) run before the clock moves again. */
export const flushIo = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/**
 * Advances the `TestClock` in `step`s until `fiber` completes, letting I/O settle between steps; fails the test
 * after `maxSteps` so a hang is reported rather than waited for.
 */
export const advanceUntilDone = <A, E>(
  fiber: Fiber.RuntimeFiber<A, E>,
  step: Duration.DurationInput = "100 millis",
  maxSteps = 10_000
) =>
  Effect.gen(function*() {
    for (let i = 0; i < maxSteps; i++) {
      yield* flushIo
      const done = yield* fiber.poll
      if (Option.isSome(done)) return yield* fiber.await
      yield* TestClock.adjust(step)
    }
    return yield* Effect.dieMessage(`fiber still running after ${maxSteps} steps of ${Duration.format(step)}`)
  })
