#!/usr/bin/env node
/**
 * The `dropbox-sign-oauth` executable.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect } from "effect"

import * as Cli from "./Cli.js"

Cli.main(process.argv).pipe(
  // Set rather than `process.exit`: the process ends once stdout is flushed and every handle is closed.
  Effect.flatMap((code) =>
    Effect.sync(() => {
      process.exitCode = code
    })
  ),
  Effect.provide(Cli.layerNode),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
