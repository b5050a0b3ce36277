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
export const version = "0.1.0"

/**
 * Exit codes: 0 success, 1 an expected failure (printed as one line), 2 a usage error (printed by the parser with
 * help), 70 a bug (EX_SOFTWARE).
 *
 * @since 0.1.0
 * @category constants
 */
export const ExitCode = { ok: 0, failure: 1, usage: 2, internal: 70 } as const

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
 * already printed with help by the parser; a defect prints its cause, since it is a bug to report.
 *
 * @since 0.1.0
 * @category running
 */
export const main = (argv: ReadonlyArray<string>): Effect.Effect<number, never, Environment> =>
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
