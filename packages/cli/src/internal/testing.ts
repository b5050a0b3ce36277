import { Effect } from "effect"

import { CliError } from "../CliError.js"

/**
 * `@dropbox-sign-effect/testing`, loaded only by the commands that run the fake (`demo`, `fake-server`): its index
 * also exports test helpers built on vitest, which the other commands must not need.
 *
 * @internal
 */
export const load = Effect.tryPromise({
  try: () => import("@dropbox-sign-effect/testing"),
  catch: (cause) =>
    new CliError({
      message: `The embedded fake Dropbox Sign could not be loaded (${
        cause instanceof Error ? cause.message : String(cause)
      }): reinstall @dropbox-sign-effect/cli with its dependencies`
    })
})
