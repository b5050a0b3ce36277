/**
 * The `dropbox-sign-oauth` command tree and its entry point. `main` runs a command line to an exit code, printing
 * expected failures as one line on stderr, so that tests run commands in process exactly as the binary does.
 *
 * @since 0.1.0
 */
import type { CliApp } from "@effect/cli"
import { Command, ValidationError } from "@effect/cli"
import type { FileSystem, HttpClient, Path } from "@effect/platform"
// Subpath imports: the package index also loads cluster, worker and socket modules, which slow every start.
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Cause, Console, Effect, Layer } from "effect"

import * as Browser from "./Browser.js"
import type { CliError } from "./CliError.js"
import * as Account from "./commands/Account.js"
import * as Authorize from "./commands/Authorize.js"
import * as Demo from "./commands/Demo.js"
import * as FakeServer from "./commands/FakeServer.js"
import * as Logout from "./commands/Logout.js"
import * as Refresh from "./commands/Refresh.js"
import * as Status from "./commands/Status.js"
import * as Token from "./commands/Token.js"
import * as PlainConsole from "./internal/plainConsole.js"
import { version as internalVersion } from "./internal/version.js"
import * as Output from "./Output.js"
import * as Tty from "./Tty.js"

/**
 * @since 0.1.0
 * @category constants
 */
export const name = "dropbox-sign-oauth"

/**
 * @since 0.1.0
 * @category constants
 */
export const version: string = internalVersion

/**
 * Exit codes: 0 success, 1 an expected failure (printed as one line), 2 a usage error (printed by the parser), 70 a
 * bug (EX_SOFTWARE), 130 and 143 a command cancelled by SIGINT and SIGTERM (128 + the signal's number, as shells
 * report a process killed by it).
 *
 * @since 0.1.0
 * @category constants
 */
export const ExitCode = { ok: 0, failure: 1, usage: 2, internal: 70, sigint: 130, sigterm: 143 } as const

/**
 * The signals that cancel a command.
 *
 * @since 0.1.0
 * @category models
 */
export type Signal = "SIGINT" | "SIGTERM"

/**
 * The root command with every subcommand.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(name).pipe(
  Command.withDescription(
    "The Dropbox Sign OAuth chores: connect an account, print or refresh its access token, inspect the token " +
      "store, and run a fake Dropbox Sign or a narrated demo. Configuration comes from flags or the " +
      "DROPBOX_SIGN_* environment variables (see each command's --help)"
  ),
  Command.withSubcommands([
    Authorize.command,
    Token.command,
    Refresh.command,
    Status.command,
    Account.command,
    Logout.command,
    FakeServer.command,
    Demo.command
  ])
)

/**
 * What running a command needs: an `HttpClient`, the platform services of `NodeContext` and a `Browser`.
 *
 * @since 0.1.0
 * @category models
 */
export type Environment =
  | CliApp.CliApp.Environment
  | HttpClient.HttpClient
  | FileSystem.FileSystem
  | Path.Path
  | Browser.Browser

/**
 * Parses `argv` (`[node, script, ...args]`) and runs the command, failing with its error.
 *
 * @since 0.1.0
 * @category running
 */
export const run: (
  argv: ReadonlyArray<string>
) => Effect.Effect<void, CliError | ValidationError.ValidationError, Environment> = Command.run(command, {
  name,
  version
})

/**
 * Runs `argv` to an exit code. Expected failures print one line on stderr (`error: cause: fix`); usage errors were
 * already printed by the parser; a defect prints its cause, since it is a bug to report. Nothing it prints carries
 * ANSI escapes unless the stream is a TTY without `NO_COLOR` (`Tty`), help included.
 *
 * @since 0.1.0
 * @category running
 */
export const main = (argv: ReadonlyArray<string>): Effect.Effect<number, never, Environment> =>
  Effect.flatMap(
    Tty.Tty,
    (tty) => Effect.consoleWith((console) => Effect.withConsole(runToExitCode(argv), PlainConsole.make(console, tty)))
  )

const runToExitCode = (argv: ReadonlyArray<string>): Effect.Effect<number, never, Environment> =>
  run(argv).pipe(
    Effect.as(ExitCode.ok),
    Effect.catchAll((error) =>
      ValidationError.isValidationError(error) ?
        Effect.succeed(ExitCode.usage) :
        Effect.as(Output.error(error.message), ExitCode.failure)
    ),
    Effect.catchAllDefect((defect) =>
      Effect.as(
        Console.error(`${name}: internal error (please report it):\n${Cause.pretty(Cause.die(defect))}`),
        ExitCode.internal
      )
    )
  )

/** The subcommand that `argv` runs, to name what a signal cancelled. */
const commandOf = (argv: ReadonlyArray<string>): string => {
  const subcommand = argv.slice(2).find((arg) => !arg.startsWith("-"))
  return subcommand === undefined ? name : `${name} ${subcommand}`
}

/**
 * `main`, cancelled by the first `signal`: the command is interrupted (its finalizers run: servers close, nothing
 * half-written stays), one line on stderr says what was cancelled, and the exit code is 130 for SIGINT, 143 for
 * SIGTERM, never 0. Both sides are made interruptible explicitly, so that a caller may run this uninterruptibly.
 *
 * @since 0.1.0
 * @category running
 */
export const mainUntil = (
  argv: ReadonlyArray<string>,
  signal: Effect.Effect<Signal>
): Effect.Effect<number, never, Environment> =>
  Effect.raceFirst(
    Effect.interruptible(main(argv)),
    Effect.interruptible(signal).pipe(
      Effect.map((received) => ({ received }))
    )
  ).pipe(
    Effect.flatMap((outcome) =>
      typeof outcome === "number" ?
        Effect.succeed(outcome) :
        Effect.as(
          Output.note(`${commandOf(argv)}: cancelled by ${outcome.received}`),
          outcome.received === "SIGINT" ? ExitCode.sigint : ExitCode.sigterm
        )
    )
  )

/**
 * The first SIGINT or SIGTERM this process receives, listening only while it waits.
 *
 * @since 0.1.0
 * @category running
 */
export const processSignal: Effect.Effect<Signal> = Effect.async<Signal>((resume) => {
  const stop = () => {
    process.removeListener("SIGINT", onSigint)
    process.removeListener("SIGTERM", onSigterm)
  }
  const onSigint = () => {
    stop()
    resume(Effect.succeed("SIGINT"))
  }
  const onSigterm = () => {
    stop()
    resume(Effect.succeed("SIGTERM"))
  }
  process.on("SIGINT", onSigint)
  process.on("SIGTERM", onSigterm)
  return Effect.sync(stop)
})

/**
 * The production environment: Node's platform services, the undici HTTP client (about 3× faster than Node 20's
 * `fetch` on loopback), the system browser opener and the process's terminal.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerNode: Layer.Layer<Environment | Tty.Tty> = Layer.mergeAll(
  Browser.layer,
  NodeHttpClient.layerUndici,
  Tty.layerProcess
).pipe(Layer.provideMerge(NodeContext.layer))
