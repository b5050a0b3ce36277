/**
 * `dropbox-sign-oauth status`: a table of the stored accounts.
 *
 * @since 0.1.0
 */
import { TokenStore } from "@dropbox-sign-effect/oauth"
import { Command } from "@effect/cli"
import { DateTime, Effect, Option } from "effect"

import { fromTokenError } from "../CliError.js"
import * as Format from "../internal/format.js"
import * as Output from "../Output.js"
import { commonOptions, resolveStoreDir, storeExists, storeLayer, withVerbosity } from "../Settings.js"

const stateOf = (stored: TokenStore.StoredToken, now: DateTime.Utc): string => {
  if (stored.status === "reauthorization_required") return "reauthorization required"
  return stored.token.isExpired(now) ? "expired (refreshes on next use)" : "active"
}

/**
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "status",
  commonOptions,
  (flags) =>
    Effect.gen(function*() {
      const directory = yield* resolveStoreDir(flags.storeDir)
      if (!(yield* storeExists(directory))) {
        return yield* Output.line(`No accounts stored in ${directory}: run \`dropbox-sign-oauth authorize\``)
      }
      const rows = yield* Effect.gen(function*() {
        const store = yield* TokenStore.TokenStore
        const now = yield* DateTime.now
        const listing = yield* store.list
        const readable = yield* Effect.forEach(listing.accounts, (account) =>
          store.get(account).pipe(
            Effect.map(Option.match({
              onNone: () => [account, "-", "-", "deleted meanwhile"],
              onSome: (stored) => [
                account,
                // A grant that is gone has no meaningful expiry.
                stored.status === "reauthorization_required" ?
                  "-" :
                  Format.expiresIn(DateTime.distance(now, stored.token.expiresAt)),
                `${Format.duration(DateTime.distance(stored.token.issuedAt, now))} ago`,
                stateOf(stored, now)
              ]
            })),
            // One unreadable entry must not hide the others.
            Effect.catchTag(
              "TokenStoreError",
              (error) => Effect.succeed([account, "-", "-", `unreadable: ${error.reason}`])
            )
          ))
        // An entry that cannot be read names no account: show where it is, why, and the way out.
        const unreadable = listing.unreadable.map((entry) => [
          entry.account ?? "?",
          "-",
          "-",
          `corrupt: ${entry.reason} (${entry.location}); delete it and authorize the account again`
        ])
        return [...readable, ...unreadable]
      }).pipe(
        Effect.catchTag("TokenStoreError", (error) => Effect.fail(fromTokenError(error, ""))),
        Effect.provide(storeLayer(directory))
      )
      if (rows.length === 0) {
        return yield* Output.line(`No accounts stored in ${directory}: run \`dropbox-sign-oauth authorize\``)
      }
      for (const line of Format.table([["ACCOUNT", "EXPIRES IN", "LAST REFRESH", "STATE"], ...rows])) {
        yield* Output.line(line)
      }
    }).pipe(withVerbosity(flags.verbose))
).pipe(
  Command.withDescription(
    "List the stored accounts: when each access token expires, when it was last issued (authorized or refreshed) " +
      "and its state. Reads the store only: needs no client credentials"
  )
)
