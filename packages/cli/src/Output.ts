/**
 * How the CLI writes: plain lines with simple markers (`✓`, `✗`, `→`), colored only on a TTY without `NO_COLOR`.
 * Results go to stdout; errors, warnings and progress to stderr.
 *
 * @since 0.1.0
 */
import { Doc } from "@effect/printer"
import { Ansi, AnsiDoc } from "@effect/printer-ansi"
import { Console, Effect } from "effect"

import { Tty } from "./Tty.js"

/**
 * @since 0.1.0
 * @category models
 */
export type Style = "ok" | "fail" | "warn" | "accent" | "dim" | "bold"

const ansi: Readonly<Record<Style, Ansi.Ansi>> = {
  ok: Ansi.green,
  fail: Ansi.red,
  warn: Ansi.yellow,
  accent: Ansi.cyan,
  dim: Ansi.blackBright,
  bold: Ansi.bold
}

/**
 * `text` in `style` when `colors` is on, otherwise `text` unchanged.
 *
 * @since 0.1.0
 * @category formatting
 */
export const paint = (colors: boolean, style: Style, text: string): string =>
  colors ? AnsiDoc.render(Doc.annotate(Doc.text(text), ansi[style]), { style: "pretty" }) : text

const stdoutLine = (render: (colors: boolean) => string): Effect.Effect<void> =>
  Effect.flatMap(Tty, (tty) => Console.log(render(tty.stdoutColors)))

const stderrLine = (render: (colors: boolean) => string): Effect.Effect<void> =>
  Effect.flatMap(Tty, (tty) => Console.error(render(tty.stderrColors)))

/**
 * A line on stdout, as is.
 *
 * @since 0.1.0
 * @category output
 */
export const line = (text: string): Effect.Effect<void> => Console.log(text)

/**
 * A numbered step heading on stdout: `2. Consent`.
 *
 * @since 0.1.0
 * @category output
 */
export const step = (index: number, title: string): Effect.Effect<void> =>
  stdoutLine((colors) => `${paint(colors, "bold", `${String(index).padStart(2)}.`)} ${paint(colors, "bold", title)}`)

/**
 * A success line on stdout: `✓ text`, indented by `indent` spaces.
 *
 * @since 0.1.0
 * @category output
 */
export const ok = (text: string, indent = 0): Effect.Effect<void> =>
  stdoutLine((colors) => `${" ".repeat(indent)}${paint(colors, "ok", "✓")} ${text}`)

/**
 * An expected failure shown as part of a narration, on stdout: `✗ text`.
 *
 * @since 0.1.0
 * @category output
 */
export const failed = (text: string, indent = 0): Effect.Effect<void> =>
  stdoutLine((colors) => `${" ".repeat(indent)}${paint(colors, "fail", "✗")} ${text}`)

/**
 * A detail line on stdout: `→ text`.
 *
 * @since 0.1.0
 * @category output
 */
export const detail = (text: string, indent = 0): Effect.Effect<void> =>
  stdoutLine((colors) => `${" ".repeat(indent)}${paint(colors, "accent", "→")} ${text}`)

/**
 * A note on stderr that is not a result (progress, hints), so that stdout stays clean for scripts.
 *
 * @since 0.1.0
 * @category output
 */
export const note = (text: string): Effect.Effect<void> => stderrLine((colors) => paint(colors, "dim", text))

/**
 * A warning on stderr.
 *
 * @since 0.1.0
 * @category output
 */
export const warning = (text: string): Effect.Effect<void> =>
  stderrLine((colors) => `${paint(colors, "warn", "warning:")} ${text}`)

/**
 * The one line an expected failure prints, on stderr: `error: <cause>: <fix>`.
 *
 * @since 0.1.0
 * @category output
 */
export const error = (message: string): Effect.Effect<void> =>
  stderrLine((colors) => `${paint(colors, "fail", "error:")} ${message}`)
