/**
 * The `dropbox-sign-oauth` command line as a library: its command tree, entry point and the services it runs on.
 *
 * @since 0.1.0
 */

/**
 * Opens a URL in the user's browser with the platform's opener (`open`, `xdg-open`, `start`), through
 * `@effect/platform`'s `Command`. Not finding or failing to run one is not an error: the URL is printed anyway.
 *
 * @since 0.1.0
 */
export * as Browser from "./Browser.js"

/**
 * The loopback server that receives the authorization callback: Dropbox Sign redirects the browser to it with `code`
 * and `state`, and it hands the first callback, checked against the expected state, to whoever awaits it.
 *
 * @since 0.1.0
 */
export * as CallbackServer from "./CallbackServer.js"

/**
 * The `dropbox-sign-oauth` command tree and its entry point. `main` runs a command line to an exit code, printing
 * expected failures as one line on stderr, so that tests run commands in process exactly as the binary does.
 *
 * @since 0.1.0
 * @example
 * ```ts
 * import { Cli } from "@dropbox-sign-effect/cli"
 * import { Effect } from "effect"
 *
 * // Runs a command line in process, as the binary does, to its exit code.
 * const status = Cli.main(["node", "dropbox-sign-oauth", "status"]).pipe(Effect.provide(Cli.layerNode))
 * ```
 */
export * as Cli from "./Cli.js"

/**
 * The one error a command fails with: a single line naming the cause and the fix. Every expected failure of the
 * library, the configuration and the platform is translated here, so that no stack trace reaches the user.
 *
 * @since 0.1.0
 */
export * as CliError from "./CliError.js"

/**
 * How the CLI writes: plain lines with simple markers (`✓`, `✗`, `→`), colored only on a TTY without `NO_COLOR`.
 * Results go to stdout; errors, warnings and progress to stderr.
 *
 * @since 0.1.0
 */
export * as Output from "./Output.js"

/**
 * Options shared by the commands and how they resolve: each setting comes from its flag, else from its environment
 * variable (read through `Config`, so tests give a `ConfigProvider`), else from its default.
 *
 * @since 0.1.0
 */
export * as Settings from "./Settings.js"

/**
 * A spinner on stderr while the CLI waits, redrawn in place on a TTY; elsewhere a single line, so that logs and pipes
 * stay readable.
 *
 * @since 0.1.0
 */
export * as Spinner from "./Spinner.js"

/**
 * What the CLI knows of the terminal it writes to: whether stdout and stderr are TTYs (spinners and colors only make
 * sense there) and how to write to stderr without a newline.
 *
 * @since 0.1.0
 */
export * as Tty from "./Tty.js"
