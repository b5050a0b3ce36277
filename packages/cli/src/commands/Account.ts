/**
 * `dropbox-sign-oauth account`: who the stored token belongs to, from `GET /account`.
 *
 * @since 0.1.0
 */
import { Command } from "@effect/cli"
import { Console, Effect } from "effect"

import { fetchAccount } from "../internal/account.js"
import { withServices } from "../internal/services.js"
import * as Output from "../Output.js"
import { accountOption, clientOptions, commonOptions, flag } from "../Settings.js"

/**
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "account",
  {
    account: accountOption,
    json: flag("json", "Print the whole GET /account response as JSON"),
    ...clientOptions,
    ...commonOptions
  },
  (flags) =>
    withServices(flags, () =>
      Effect.gen(function*() {
        const info = yield* fetchAccount(flags.account)
        if (flags.json) return yield* Console.log(JSON.stringify(info.body, null, 2))
        yield* Output.ok(
          `Account "${flags.account}" is ${info.emailAddress} (Dropbox Sign account id ${info.accountId})`
        )
      }))
).pipe(Command.withDescription("Show the Dropbox Sign account the stored token acts for (GET /account)"))
