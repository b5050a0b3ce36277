/**
 * `dropbox-sign-oauth refresh`: renews the account's access token now.
 *
 * @since 0.1.0
 */
import { Command } from "@effect/cli"
import { DateTime, Effect } from "effect"

import * as Format from "../internal/format.js"
import { withManager, withServices } from "../internal/services.js"
import * as Output from "../Output.js"
import { accountOption, clientOptions, commonOptions } from "../Settings.js"

/**
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "refresh",
  { account: accountOption, ...clientOptions, ...commonOptions },
  (flags) =>
    withServices(flags, () =>
      Effect.gen(function*() {
        const token = yield* withManager(flags.account, (manager) => manager.refresh(flags.account))
        const now = yield* DateTime.now
        yield* Output.ok(
          `Refreshed account "${flags.account}": the new access token expires ${
            Format.expiry(DateTime.distance(now, token.expiresAt))
          }`
        )
      }))
).pipe(Command.withDescription("Refresh the account's access token now, whatever its expiry"))
