/**
 * Opens a URL in the user's browser with the platform's opener (`open`, `xdg-open`, `start`), through
 * `@effect/platform`'s `Command`. Not finding or failing to run one is not an error: the URL is printed anyway.
 *
 * @since 0.1.0
 */
import { Command, CommandExecutor } from "@effect/platform"
import { Context, Duration, Effect, Layer } from "effect"

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Whether a browser was (probably) opened. Never fails. */
  readonly open: (url: string) => Effect.Effect<boolean>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Browser extends Context.Tag("@dropbox-sign-effect/cli/Browser")<Browser, Service>() {}

/**
 * The opener command for `platform`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const openerCommand = (url: string, platform: NodeJS.Platform = process.platform): Command.Command => {
  switch (platform) {
    case "darwin":
      return Command.make("open", url)
    case "win32":
      // `start` is a shell builtin; its first quoted argument is the window title.
      return Command.make("cmd", "/c", "start", "\"\"", url)
    default:
      return Command.make("xdg-open", url)
  }
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, CommandExecutor.CommandExecutor> = Effect.map(
  CommandExecutor.CommandExecutor,
  (executor) => ({
    open: (url) =>
      Command.exitCode(openerCommand(url)).pipe(
        Effect.provideService(CommandExecutor.CommandExecutor, executor),
        // Some openers wait for the browser to exit; the flow must not.
        Effect.timeoutFail({ duration: Duration.seconds(5), onTimeout: () => "timeout" }),
        Effect.map((code) => code === 0),
        Effect.tapError((error) => Effect.logDebug("Could not open a browser", error)),
        Effect.orElseSucceed(() => false)
      )
  })
)

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Browser, never, CommandExecutor.CommandExecutor> = Layer.effect(Browser, make)

/**
 * A browser that never opens anything: for tests and headless runs.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerNoop: Layer.Layer<Browser> = Layer.succeed(Browser, { open: () => Effect.succeed(false) })
