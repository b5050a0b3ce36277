/**
 * @since 0.1.0
 */
export * as Browser from "./Browser.js"
export * as CallbackServer from "./CallbackServer.js"
export * as Cli from "./Cli.js"
export * as CliError from "./CliError.js"
export * as Output from "./Output.js"
export * as Settings from "./Settings.js"
export * as Spinner from "./Spinner.js"
export * as Tty from "./Tty.js"
