/**
 * Runs `dropbox-sign-oauth` as a real child process, from its TypeScript sources (`node --conditions=source --import
 * tsx src/bin.ts`), with an environment made only of what the test gives: the developer's own `DROPBOX_SIGN_*`
 * variables and home directory never leak in.
 */
import * as NodePath from "node:path"

import type { CommandExecutor } from "@effect/platform"
import { Command } from "@effect/platform"
import type { Scope } from "effect"
import type { Duration } from "effect"
import { Effect, Fiber, Ref, Schedule, Stream } from "effect"

import type { Env, Result } from "./harness.js"

const cliRoot = NodePath.resolve(import.meta.dirname, "..", "..")

const command = (args: ReadonlyArray<string>, env: Env) =>
  Command.make(process.execPath, "--conditions=source", "--import", "tsx", "src/bin.ts", ...args).pipe(
    Command.workingDirectory(cliRoot),
    Command.env({ PATH: process.env["PATH"], NO_COLOR: "1", ...env }, { extendEnv: false })
  )

/** A running child whose output accumulates as it arrives. */
export interface Child {
  readonly stdout: Effect.Effect<string>
  readonly stderr: Effect.Effect<string>
  /** Waits until stdout matches `pattern` (dies after `timeout` with what was printed). */
  readonly waitForStdout: (pattern: RegExp, timeout?: Duration.DurationInput) => Effect.Effect<RegExpExecArray>
  readonly kill: (signal: "SIGINT" | "SIGTERM") => Effect.Effect<void>
  /** Waits for the exit, then for the last output. */
  readonly result: Effect.Effect<Result>
}

export const start = (
  args: ReadonlyArray<string>,
  env: Env
): Effect.Effect<Child, never, CommandExecutor.CommandExecutor | Scope.Scope> =>
  Effect.gen(function*() {
    const process = yield* Command.start(command(args, env)).pipe(Effect.orDie)
    const stdout = yield* Ref.make("")
    const stderr = yield* Ref.make("")
    const collect = (stream: typeof process.stdout, into: Ref.Ref<string>) =>
      stream.pipe(
        Stream.decodeText(),
        Stream.runForEach((text) => Ref.update(into, (all) => all + text)),
        Effect.orDie,
        Effect.fork
      )
    const readers = [yield* collect(process.stdout, stdout), yield* collect(process.stderr, stderr)]
    return {
      stdout: Ref.get(stdout),
      stderr: Ref.get(stderr),
      waitForStdout: (pattern, timeout = "30 seconds") =>
        Effect.flatMap(Ref.get(stdout), (text) => {
          const match = pattern.exec(text)
          return match === null ? Effect.fail(text) : Effect.succeed(match)
        }).pipe(
          Effect.retry(Schedule.spaced("50 millis").pipe(Schedule.upTo(timeout))),
          Effect.catchAll((text) =>
            Effect.flatMap(
              Ref.get(stderr),
              (err) => Effect.dieMessage(`never printed ${pattern}; stdout: ${text}; stderr: ${err}`)
            )
          )
        ),
      kill: (signal) => Effect.orDie(process.kill(signal)),
      result: Effect.gen(function*() {
        const code = yield* Effect.orDie(process.exitCode)
        yield* Fiber.joinAll(readers)
        return { code, stdout: yield* Ref.get(stdout), stderr: yield* Ref.get(stderr) }
      })
    }
  })

/** Runs the command to its exit. */
export const run = (
  args: ReadonlyArray<string>,
  env: Env
): Effect.Effect<Result, never, CommandExecutor.CommandExecutor> =>
  Effect.scoped(Effect.flatMap(start(args, env), (child) => child.result))
