/**
 * Driving `TestClock` through effects that also wait on real I/O (sockets, response bodies read through promises):
 * the clock moves only between turns of the event loop, so that timing tests stay deterministic without real sleeps.
 */
import type { Fiber } from "effect"
import { Chunk, Duration, Effect, Exit, Option, TestClock } from "effect"

/** Lets pending I/O callbacks run (one turn of the event loop). */
export const flushIo: Effect.Effect<void> = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/** Turns of the event loop `waitUntil` allows before it gives up: seconds of real time, far beyond any loopback I/O. */
const maxTurns = 20_000

/** Lets I/O run until `condition` holds; dies if it never does, so a hang is reported instead of waited for. */
export const waitUntil = (condition: Effect.Effect<boolean>, what: string): Effect.Effect<void> =>
  Effect.gen(function*() {
    for (let turn = 0; turn < maxTurns; turn++) {
      if (yield* condition) return
      yield* flushIo
    }
    return yield* Effect.dieMessage(`still waiting for ${what} after ${maxTurns} turns of the event loop`)
  })

/** True once some fiber sleeps on the `TestClock` until `instant` (epoch milliseconds). */
export const sleepingUntil = (instant: number): Effect.Effect<boolean> =>
  Effect.map(TestClock.sleeps(), Chunk.some((end) => end === instant))

/**
 * Advances the `TestClock` in `step`s until `fiber` completes, letting I/O settle between steps, and returns its
 * exit. Dies after `maxSteps`.
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

/** Runs `effect` in a fiber while advancing the clock, and returns its exit. */
export const runWithClock = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  step?: Duration.DurationInput
): Effect.Effect<Exit.Exit<A, E>, never, R> =>
  Effect.flatMap(Effect.fork(effect), (fiber) => advanceUntilDone(fiber, step))

/** The failure of an exit, for assertions; throws when the exit is not a plain failure. */
export const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isFailure(exit) && exit.cause._tag === "Fail") return exit.cause.error
  throw new Error(`expected a failure, got ${String(exit)}`)
}
