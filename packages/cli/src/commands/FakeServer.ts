/**
 * `dropbox-sign-oauth fake-server`: the embedded fake Dropbox Sign on loopback, until interrupted, for trying the
 * other commands (and integration tests) without a real API app.
 *
 * @since 0.1.0
 */
import { OAuthConfig } from "@dropbox-sign-effect/oauth"
import { Command, Options } from "@effect/cli"
import { Context, Duration, Effect, Layer, Redacted } from "effect"

import { CliError, fromServeError } from "../CliError.js"
import * as Format from "../internal/format.js"
import * as Testing from "../internal/testing.js"
import * as Output from "../Output.js"
import { flag, integerIn, withShownDefault, withVerbosity } from "../Settings.js"
import { defaultPort as defaultCallbackPort } from "./Authorize.js"

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultPort = 8766

/**
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "fake-server",
  {
    port: integerIn("port", { min: 0, max: 65535 }).pipe(
      Options.withDescription("Port on 127.0.0.1 (0 picks a free port)"),
      withShownDefault(defaultPort)
    ),
    callbackUrl: Options.text("callback-url").pipe(
      Options.withDescription(
        "Where consent redirects (the API app's callback URL); matches `authorize` with its default --port"
      ),
      withShownDefault(`http://127.0.0.1:${defaultCallbackPort}/callback`)
    ),
    accessTokenTtl: integerIn("access-token-ttl", { min: 1 }).pipe(
      Options.withDescription("Lifetime of the access tokens it issues, in seconds"),
      withShownDefault(3600)
    ),
    verbose: flag("verbose", "Print logs (debug level) on stderr").pipe(Options.withAlias("v"))
  },
  (flags) =>
    Effect.gen(function*() {
      const callbackUrl = yield* Effect.try({
        try: () => new URL(flags.callbackUrl).href,
        catch: () => new CliError({ message: `Invalid --callback-url ${flags.callbackUrl}: pass an absolute URL` })
      })
      const { FakeDropboxSign } = yield* Testing.load
      const context = yield* Layer.build(FakeDropboxSign.layerServer({
        port: flags.port,
        defaultApp: { callbackUrl, accessTokenTtl: Duration.seconds(flags.accessTokenTtl) }
      })).pipe(Effect.mapError((error) => fromServeError(error, flags.port)))
      const server = Context.get(context, FakeDropboxSign.FakeDropboxSignServer)
      const app = FakeDropboxSign.defaultApp
      const env = OAuthConfig.env
      yield* Output.line(`Fake Dropbox Sign listening on ${server.url}`)
      yield* Output.line(
        `Consent redirects to ${callbackUrl}; access tokens live ${
          Format.duration(Duration.seconds(flags.accessTokenTtl))
        }`
      )
      yield* Output.line("Use it from another shell (these are test fixtures, not real credentials):")
      yield* Output.line(`  export ${env.oauthUrl}=${server.oauthUrl}`)
      yield* Output.line(`  export ${env.apiUrl}=${server.apiUrl}`)
      yield* Output.line(`  export ${env.clientId}=${app.clientId}`)
      // Printing a secret is the point here: it is the fake's public fixture value.
      yield* Output.line(`  export ${env.clientSecret}=${Redacted.value(app.clientSecret)}`)
      yield* Output.line("Press Ctrl-C to stop.")
      return yield* Effect.never
    }).pipe(Effect.scoped, withVerbosity(flags.verbose))
).pipe(
  Command.withDescription(
    "Run a fake Dropbox Sign (OAuth endpoints and GET /v3/account) on 127.0.0.1 until interrupted, and print the " +
      "environment to point the other commands at it"
  )
)
