/**
 * `dropbox-sign-oauth logout`: deletes the account's tokens from the store.
 *
 * @since 0.1.0
 */
import { TokenStore } from "@dropbox-sign-effect/oauth"
import { Command } from "@effect/cli"
import { Effect, Option } from "effect"

import { authorizeHint, CliError, fromTokenError } from "../CliError.js"
import * as Output from "../Output.js"
import { accountOption, commonOptions, resolveStoreDir, storeExists, storeLayer, withVerbosity } from "../Settings.js"

/**
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "logout",
  { account: accountOption, ...commonOptions },
  (flags) =>
    Effect.gen(function*() {
      const directory = yield* resolveStoreDir(flags.storeDir)
      const notFound = new CliError({
        message: `No token is stored for account "${flags.account}" in ${directory}: nothing to log out (` +
          `${authorizeHint(flags.account)} to connect it)`
      })
      if (!(yield* storeExists(directory))) return yield* notFound
      yield* Effect.gen(function*() {
        const store = yield* TokenStore.TokenStore
        // An entry that cannot be read (corrupt, or encrypted with another key) can still be deleted.
        const present = yield* store.get(flags.account).pipe(
          Effect.map(Option.isSome),
          Effect.orElseSucceed(() => true)
        )
        if (!present) return yield* notFound
        yield* store.delete(flags.account)
      }).pipe(
        Effect.catchTag("TokenStoreError", (error) => Effect.fail(fromTokenError(error, flags.account))),
        Effect.provide(storeLayer(directory))
      )
      yield* Output.ok(`Logged out account "${flags.account}": its tokens were deleted from ${directory}`)
      yield* Output.note("The grant itself stays valid on Dropbox Sign's side until the user revokes the app's access")
    }).pipe(withVerbosity(flags.verbose))
).pipe(Command.withDescription("Delete the account's tokens from the token store"))
