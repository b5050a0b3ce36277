/**
 * A `Console` without ANSI escapes where colors are off. `@effect/cli` renders help and usage errors with ANSI styles
 * whatever the terminal; this strips them on a stream that is not a TTY, or when `NO_COLOR` is set (`Tty`).
 */
import type { Console } from "effect"

import type * as Tty from "../Tty.js"

// CSI sequences (colors, styles, cursor moves): ESC [ parameters final-byte.
const ansiEscape = new RegExp(String.raw`\u001b\[[0-9;?]*[A-Za-z]`, "g")

/** `text` without ANSI escapes. */
export const stripAnsi = (text: string): string => text.replace(ansiEscape, "")

const strip = (args: ReadonlyArray<unknown>): ReadonlyArray<unknown> =>
  args.map((arg) => typeof arg === "string" ? stripAnsi(arg) : arg)

/** Drops the newline a message ends with: the console ends every line itself (the parser's messages end in one). */
const trimNewline = (args: ReadonlyArray<unknown>): ReadonlyArray<unknown> =>
  args.map((arg) => typeof arg === "string" ? arg.replace(/\n+$/, "") : arg)

/**
 * `console`, with escapes stripped from what goes to stdout (`log`, `info`) and stderr (`error`, `warn`) when that
 * stream has no colors, and stderr messages one line each (no trailing blank line).
 */
export const make = (console: Console.Console, tty: Tty.Service): Console.Console => {
  const out = tty.stdoutColors ? (args: ReadonlyArray<unknown>) => args : strip
  const err = tty.stderrColors ? (args: ReadonlyArray<unknown>) => args : strip
  return {
    ...console,
    log: (...args) => console.log(...out(args)),
    info: (...args) => console.info(...out(args)),
    error: (...args) => console.error(...trimNewline(err(args))),
    warn: (...args) => console.warn(...trimNewline(err(args)))
  }
}
