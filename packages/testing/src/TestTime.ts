/**
 * Driving `TestClock` through effects that also wait on real I/O (response bodies are read through promises), so
 * timing tests stay deterministic without real sleeps.
 *
 * **One rule: inside an effect that a `TestTime` driver runs (`runWithClock`, `advanceUntilDone`), move the clock with
 * `TestTime.adjust` or `TestTime.adjustGradually`, never with `TestClock.adjust` or `TestClock.setTime`.**
 *
 * Why: `TestClock.adjust` computes its target time once, wakes the sleepers due by then one by one, and finally
 * writes that target. A second move made meanwhile (by a woken flow, or by the driver) is overwritten by the older,
 * smaller target: the clock goes backwards, and a fiber that went to sleep in the lost hour waits for time that never
 * comes. Every clock move made by this module takes one lock per `TestClock`, so moves never overlap and time only
 * goes forwards. `TestClock.adjust` bypasses the lock; outside a driven effect (between two driven steps) it is safe.
 *
 * @example
 * ```ts
 * import { TestTime } from "@dropbox-sign-effect/testing"
 * import { Effect } from "effect"
 *
 * declare const fetchToken: Effect.Effect<string>
 *
 * const flow = Effect.gen(function*() {
 *   yield* TestTime.adjust("1 hour") // not TestClock.adjust: a driver is moving the clock too
 *   return yield* fetchToken
 * })
 * const exit = TestTime.runWithClock(flow)
 * ```
 *
 * @since 0.1.0
 */
import type { Fiber } from "effect"
import { Duration, Effect, Exit, Option, TestClock } from "effect"
import { globalValue } from "effect/GlobalValue"

// One lock per `TestClock`: tests running side by side have clocks of their own and never wait for each other.
const locks = globalValue(
  Symbol.for("@dropbox-sign-effect/testing/TestTime/locks"),
  () => new WeakMap<TestClock.TestClock, Effect.Semaphore>()
)

const lockOf = (clock: TestClock.TestClock): Effect.Semaphore => {
  const existing = locks.get(clock)
  if (existing !== undefined) return existing
  const lock = Effect.unsafeMakeSemaphore(1)
  locks.set(clock, lock)
  return lock
}

/**
 * Moves the `TestClock` forward by `duration`, running the sleepers due by then, never while another `TestTime` move
 * is in progress. Use it instead of `TestClock.adjust` inside an effect that `runWithClock` or `advanceUntilDone`
 * drives (see the module's rule).
 *
 * @since 0.1.0
 * @category utils
 */
export const adjust = (duration: Duration.DurationInput): Effect.Effect<void> =>
  TestClock.testClockWith((clock) => lockOf(clock).withPermits(1)(clock.adjust(duration)))

/**
 * Lets pending I/O callbacks run (one turn of the event loop) before the clock moves again.
 *
 * @since 0.1.0
 * @category utils
 */
export const flushIo: Effect.Effect<void> = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/**
 * Advances the `TestClock` in `step`s until `fiber` completes, letting I/O settle between steps, and returns its
 * exit. Dies after `maxSteps`, so a hang is reported instead of waited for. Each step is a `TestTime.adjust`, so the
 * fiber may move the clock itself with `TestTime.adjust`.
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
      yield* adjust(step)
    }
    return yield* Effect.dieMessage(`fiber still running after ${maxSteps} steps of ${Duration.format(step)}`)
  })

/**
 * Runs `effect` in a fiber while advancing the clock, and returns its exit. Inside `effect`, move the clock with
 * `TestTime.adjust`, not `TestClock.adjust`.
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
 * (background refreshes, retries) can finish before time moves on. Each step is a `TestTime.adjust`.
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
      yield* adjust(Duration.millis(Math.min(stepMillis, total - elapsed)))
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
