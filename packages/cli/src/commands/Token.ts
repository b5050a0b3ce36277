/**
 * `dropbox-sign-oauth token`: a valid access token on stdout and nothing else, for
 * `curl -H "Authorization: Bearer $(dropbox-sign-oauth token)"`.
 *
 * @since 0.1.0
 */
import { Command } from "@effect/cli"
import { Console, Effect, Redacted } from "effect"

import { withManager, withServices } from "../internal/services.js"
import { accountOption, clientOptions, commonOptions } from "../Settings.js"

/**
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "token",
  { account: accountOption, ...clientOptions, ...commonOptions },
  (flags) =>
    withServices(flags, () =>
      Effect.gen(function*() {
        const token = yield* withManager(flags.account, (manager) => manager.accessToken(flags.account))
        // The one place a secret is printed, on purpose: stdout is the command's whole output.
        yield* Console.log(Redacted.value(token))
      }))
).pipe(
  Command.withDescription(
    "Print a valid access token for the account and nothing else, refreshing it if needed. " +
      "Example: curl -H \"Authorization: Bearer $(dropbox-sign-oauth token)\" https://api.hellosign.com/v3/account"
  )
)
