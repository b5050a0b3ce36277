/**
 * `dropbox-sign-oauth authorize`: the browser step of OAuth, end to end. A loopback server waits for Dropbox Sign's
 * redirect, the `state` is verified, the code is exchanged and the token stored.
 *
 * @since 0.1.0
 */
import { OAuthClient, OAuthState, TokenManager } from "@dropbox-sign-effect/oauth"
import { Command, Options } from "@effect/cli"
import { DateTime, Duration, Effect } from "effect"

import { Browser } from "../Browser.js"
import * as CallbackServer from "../CallbackServer.js"
import { CliError, fromServeError, fromTokenError } from "../CliError.js"
import { fetchAccount } from "../internal/account.js"
import * as Format from "../internal/format.js"
import { withServices } from "../internal/services.js"
import * as Output from "../Output.js"
import { accountOption, clientOptions, commonOptions, flag, integerIn, withShownDefault } from "../Settings.js"
import * as Spinner from "../Spinner.js"

/**
 * The default callback port: the API app's callback URL is then `http://127.0.0.1:8765/callback`.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultPort = 8765

/**
 * @since 0.1.0
 * @category options
 */
export const portOption = integerIn("port", { min: 0, max: 65535 }).pipe(
  Options.withDescription(
    `Port of the loopback callback server on 127.0.0.1; the API app's callback URL must be ` +
      `http://127.0.0.1:<port>/callback (0 picks a free port)`
  ),
  withShownDefault(defaultPort)
)

/**
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "authorize",
  {
    account: accountOption,
    port: portOption,
    noOpen: flag("no-open", "Do not open a browser; only print the URL to open"),
    timeout: integerIn("timeout", { min: 1 }).pipe(
      Options.withDescription("Seconds to wait for the callback"),
      withShownDefault(300)
    ),
    ...clientOptions,
    ...commonOptions
  },
  (flags) =>
    withServices(flags, ({ directory }) =>
      Effect.scoped(Effect.gen(function*() {
        const client = yield* OAuthClient.OAuthClient
        const manager = yield* TokenManager.TokenManager
        const browser = yield* Browser
        const account = flags.account
        const timeout = Duration.seconds(flags.timeout)

        const state = yield* OAuthState.make
        const server = yield* CallbackServer.make({ port: flags.port, expectedState: state }).pipe(
          Effect.mapError((error) => fromServeError(error, flags.port))
        )
        const url = client.authorizeUrl({ state })
        yield* Output.line(`Authorize account "${account}" by opening this URL in a browser:`)
        yield* Output.line("")
        yield* Output.line(`  ${url}`)
        yield* Output.line("")
        yield* Output.line(`Listening for the callback on ${server.url} (the API app's callback URL must match)`)
        if (!flags.noOpen) {
          yield* browser.open(url).pipe(
            Effect.flatMap((opened) =>
              opened ? Output.note("Opened the URL in your browser") : Output.note(
                "Could not open a browser: open the URL above yourself"
              )
            ),
            Effect.forkScoped
          )
        }

        const callback = yield* server.callback.pipe(
          Effect.mapError((error) => fromTokenError(error, account)),
          Effect.timeoutFail({
            duration: timeout,
            onTimeout: () =>
              new CliError({
                message: `No authorization callback within ${Format.duration(timeout)}: open the URL and approve ` +
                  "access before the timeout, or pass a longer --timeout (seconds)"
              })
          }),
          Spinner.whileRunning((elapsed) =>
            `Waiting for the authorization callback (${
              Format.duration(Duration.subtract(timeout, Duration.min(elapsed, timeout)))
            } left)…`
          )
        )
        yield* Output.note("Callback received and its state verified; exchanging the code…")
        const token = yield* manager.authorize(account, callback, state).pipe(
          Effect.mapError((error) => fromTokenError(error, account))
        )
        const info = yield* fetchAccount(account).pipe(
          Effect.mapError((error) =>
            new CliError({ message: `The token was stored in ${directory}, but ${error.message}` })
          )
        )
        const now = yield* DateTime.now
        yield* Output.ok(`Connected account "${account}" as ${info.emailAddress}`)
        yield* Output.detail(
          `Token stored in ${directory}; the access token expires ${
            Format.expiry(DateTime.distance(now, token.expiresAt))
          } and is refreshed on use`
        )
      })))
).pipe(
  Command.withDescription(
    "Connect a Dropbox Sign account: print the authorize URL (and open it), wait for the callback on a loopback " +
      "server, verify its state, exchange the code, store the token and show who is connected"
  )
)
