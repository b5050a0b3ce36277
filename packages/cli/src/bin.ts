#!/usr/bin/env node
/**
 * The `dropbox-sign-oauth` executable.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Exit, Fiber } from "effect"

import * as Cli from "./Cli.js"

// `runMain` interrupts the main fiber on SIGINT/SIGTERM, and with it every child fiber. The command runs in a daemon
// fiber, which `mainUntil` cancels itself on those signals (with its line and exit code), and the main fiber waits
// for it uninterruptibly, so that the exit code is recorded before `runMain`'s interruption takes effect.
Effect.forkDaemon(Cli.mainUntil(process.argv, Cli.processSignal)).pipe(
  Effect.flatMap(Fiber.join),
  // Set rather than `process.exit`: the process ends once stdout is flushed and every handle is closed.
  Effect.flatMap((code) =>
    Effect.sync(() => {
      process.exitCode = code
    })
  ),
  Effect.uninterruptible,
  Effect.provide(Cli.layerNode),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    // The code recorded above; a signal that arrived before the command started is still an interruption.
    teardown: (exit, onExit) =>
      onExit(
        typeof process.exitCode === "number" ?
          process.exitCode :
          Exit.isSuccess(exit) ?
          Cli.ExitCode.ok :
          Exit.isInterrupted(exit) ?
          Cli.ExitCode.sigint :
          Cli.ExitCode.internal
      )
  })
)
