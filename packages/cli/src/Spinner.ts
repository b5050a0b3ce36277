/**
 * A spinner on stderr while the CLI waits, redrawn in place on a TTY; elsewhere a single line, so that logs and pipes
 * stay readable.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Fiber, Schedule } from "effect"

import { note, paint } from "./Output.js"
import { Tty } from "./Tty.js"

const interval = 80

const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

/**
 * Runs `self` while showing `label(elapsed)`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const whileRunning =
  (label: (elapsed: Duration.Duration) => string) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.flatMap(Tty, (tty) => {
      if (!tty.stderrIsTty) return Effect.zipRight(note(label(Duration.zero)), self)
      return Effect.gen(function*() {
        const start = yield* Clock.currentTimeMillis
        const draw = Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const frame = frames[Math.floor((now - start) / interval) % frames.length] ?? "-"
          return tty.writeStderr(
            `\r${paint(tty.stderrColors, "accent", frame)} ${label(Duration.millis(now - start))}\u001b[K`
          )
        })
        const spinner = yield* Effect.fork(Effect.repeat(draw, Schedule.spaced(Duration.millis(interval))))
        return yield* self.pipe(
          Effect.ensuring(Effect.zipRight(Fiber.interrupt(spinner), tty.writeStderr("\r\u001b[K")))
        )
      })
    })
