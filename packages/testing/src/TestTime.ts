/**
 * Driving `TestClock` through effects that also wait on real I/O (response bodies are read through promises), so
 * timing tests stay deterministic without real sleeps.
 *
 * @since 0.1.0
 */
import type { Fiber } from "effect"
import { Duration, Effect, Exit, Option, TestClock } from "effect"

/**
 * Lets pending I/O callbacks run (one turn of the event loop) before the clock moves again.
 *
 * @since 0.1.0
 * @category utils
 */
export const flushIo: Effect.Effect<void> = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/**
 * Advances the `TestClock` in `step`s until `fiber` completes, letting I/O settle between steps, and returns its
 * exit. Dies after `maxSteps`, so a hang is reported instead of waited for.
 *
 * @since 0.1.0
 * @category utils
 */
export const advanceUntilDone = <A, E>(
  fiber: Fiber.Fiber<A, E>,
  step: Duration.DurationInput = "100 millis",
  maxSteps = 10_000
): Effect.Effect<Exit.Exit<A, E>> =>
  Effect.gen(function*() {
    for (let i = 0; i < maxSteps; i++) {
      yield* flushIo
      const done = yield* fiber.poll
      if (Option.isSome(done)) return done.value
      yield* TestClock.adjust(step)
    }
    return yield* Effect.dieMessage(`fiber still running after ${maxSteps} steps of ${Duration.format(step)}`)
  })

/**
 * Runs `effect` in a fiber while advancing the clock, and returns its exit.
 *
 * @since 0.1.0
 * @category utils
 */
export const runWithClock = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  step?: Duration.DurationInput
): Effect.Effect<Exit.Exit<A, E>, never, R> =>
  Effect.flatMap(Effect.fork(effect), (fiber) => advanceUntilDone(fiber, step))

/**
 * Advances the clock by `duration` in `step`s, letting I/O settle between steps, so that work woken at each instant
 * (background refreshes, retries) can finish before time moves on.
 *
 * @since 0.1.0
 * @category utils
 */
export const adjustGradually = (
  duration: Duration.DurationInput,
  step: Duration.DurationInput = "1 second"
): Effect.Effect<void> =>
  Effect.gen(function*() {
    const total = Duration.toMillis(duration)
    const stepMillis = Math.max(1, Duration.toMillis(step))
    for (let elapsed = 0; elapsed < total; elapsed += stepMillis) {
      yield* flushIo
      yield* TestClock.adjust(Duration.millis(Math.min(stepMillis, total - elapsed)))
    }
    yield* flushIo
  })

/**
 * The failure of an exit, for assertions; dies when the exit is not a plain failure.
 *
 * @since 0.1.0
 * @category utils
 */
export const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isFailure(exit) && exit.cause._tag === "Fail") return exit.cause.error
  throw new Error(`expected a failure, got ${String(exit)}`)
}
