/**
 * What the CLI knows of the terminal it writes to: whether stdout and stderr are TTYs (spinners and colors only make
 * sense there) and how to write to stderr without a newline.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Colors on stdout: a TTY, and `NO_COLOR` unset. */
  readonly stdoutColors: boolean
  /** Colors on stderr: a TTY, and `NO_COLOR` unset. */
  readonly stderrColors: boolean
  /** Whether stderr is a TTY, where a spinner can redraw its line. */
  readonly stderrIsTty: boolean
  /** Writes to stderr as is (no newline), for the spinner. */
  readonly writeStderr: (text: string) => Effect.Effect<void>
}

/**
 * Plain output: no TTY, no colors, nothing written without a newline. The default, so that tests and pipes get
 * stable text.
 *
 * @since 0.1.0
 * @category constants
 */
export const plain: Service = {
  stdoutColors: false,
  stderrColors: false,
  stderrIsTty: false,
  writeStderr: () => Effect.void
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Tty extends Context.Reference<Tty>()("@dropbox-sign-effect/cli/Tty", { defaultValue: () => plain }) {}

/**
 * The terminal of this process. Colors follow the `NO_COLOR` convention (https://no-color.org) and `TERM=dumb`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromProcess: Effect.Effect<Service> = Effect.sync(() => {
  const noColor = (process.env["NO_COLOR"] ?? "") !== "" || process.env["TERM"] === "dumb"
  const stdoutIsTty = process.stdout.isTTY === true
  const stderrIsTty = process.stderr.isTTY === true
  return {
    stdoutColors: stdoutIsTty && !noColor,
    stderrColors: stderrIsTty && !noColor,
    stderrIsTty,
    writeStderr: (text) =>
      Effect.sync(() => {
        process.stderr.write(text)
      })
  }
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layerProcess: Layer.Layer<Tty> = Layer.effect(Tty, fromProcess)
