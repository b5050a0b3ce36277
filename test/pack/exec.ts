/**
 * Runs a command to its exit and collects its output, for the tests that drive real tools (pnpm, npm, tsc, node).
 */
import * as NodePath from "node:path"

import type { CommandExecutor } from "@effect/platform"
import { Command } from "@effect/platform"
import { Effect, Stream } from "effect"

/** The repository's root folder. */
export const workspaceRoot = NodePath.resolve(import.meta.dirname, "..", "..")

/** A workspace tool's executable, run with this Node (never a global one). */
export const bin = (name: string): string => NodePath.join(workspaceRoot, "node_modules", ".bin", name)

/** `tsc` of the workspace, run with this Node. */
export const tsc = NodePath.join(workspaceRoot, "node_modules", "typescript", "bin", "tsc")

/** What a command printed and how it ended. */
export interface Result {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/**
 * The environment a child gets: this process's, without the `npm_*` variables that pnpm sets for its scripts (they
 * would point npm at the workspace's configuration).
 */
const cleanEnv = (extra: Record<string, string>): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.toLowerCase().startsWith("npm_")) env[key] = value
  }
  return { ...env, ...extra }
}

const collect = (stream: Stream.Stream<Uint8Array, unknown>) =>
  stream.pipe(Stream.decodeText(), Stream.mkString, Effect.orDie)

/** Runs `command args` in `cwd`; dies only when the command cannot be started. */
export const exec = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly env?: Record<string, string> }
): Effect.Effect<Result, never, CommandExecutor.CommandExecutor> =>
  Effect.scoped(
    Effect.gen(function*() {
      const child = yield* Command.make(command, ...args).pipe(
        Command.workingDirectory(options.cwd),
        Command.env(cleanEnv(options.env ?? {}), { extendEnv: false }),
        Command.start,
        Effect.orDie
      )
      const [stdout, stderr, code] = yield* Effect.all(
        [collect(child.stdout), collect(child.stderr), Effect.orDie(child.exitCode)],
        { concurrency: "unbounded" }
      )
      return { code, stdout, stderr }
    })
  )

/** Runs a command that must succeed: a non-zero exit dies with the command line and everything it printed. */
export const execOk = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly env?: Record<string, string> }
): Effect.Effect<Result, never, CommandExecutor.CommandExecutor> =>
  Effect.flatMap(
    exec(command, args, options),
    (result) =>
      result.code === 0 ? Effect.succeed(result) : Effect.dieMessage(
        `\`${[command, ...args].join(" ")}\` in ${options.cwd} exited ${result.code}\n` +
          `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`
      )
  )
