/**
 * `dropbox-sign-oauth demo`: the whole OAuth flow against the embedded fake Dropbox Sign, narrated step by step, in a
 * few seconds and with no configuration. Everything runs on loopback; the token store is a temporary directory.
 *
 * @since 0.1.0
 */
import {
  AccountId,
  OAuthClient,
  OAuthConfig,
  OAuthState,
  TokenEvent,
  TokenManager,
  TokenStore
} from "@dropbox-sign-effect/oauth"
import type { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import { Command, Options } from "@effect/cli"
import type { Path as PathService } from "@effect/platform"
import { FileSystem, HttpClient, Path } from "@effect/platform"
import { Clock, Context, DateTime, Duration, Effect, Layer, Option, Queue } from "effect"

import * as CallbackServer from "../CallbackServer.js"
import { CliError, fromConfigError, fromServeError, fromTokenError } from "../CliError.js"
import { fetchAccount, fetchAccountRaw } from "../internal/account.js"
import * as Format from "../internal/format.js"
import * as Testing from "../internal/testing.js"
import * as Output from "../Output.js"
import { flag, servicesLayer, withVerbosity } from "../Settings.js"

/**
 * How long the fake's access tokens live in the demo: short, so that expiry comes within seconds.
 *
 * @since 0.1.0
 * @category constants
 */
export const accessTokenTtl = Duration.seconds(4)

/**
 * How many callers ask for a token at once in the single-flight step.
 *
 * @since 0.1.0
 * @category constants
 */
export const concurrentCallers = 100

const account = AccountId.make("demo")

// Half of the 4-second lifetime, without jitter, so that the narration can say when the window opens.
const refreshWindow = { ratio: 0.5, jitter: 0 }

// Results of a step are indented under its heading.
const ok = (text: string) => Output.ok(text, 4)
const detail = (text: string) => Output.detail(text, 4)
const failed = (text: string) => Output.failed(text, 4)

const fail = (message: string) => new CliError({ message: `demo: ${message}` })

const platformFailure = (what: string) => (error: { readonly message: string }) =>
  fail(`${what} failed (${error.message})`)

/** The redirect target without its query, which carries the single-use code. */
const withoutQuery = (location: string): string => {
  const url = new URL(location)
  return `${url.origin}${url.pathname}?code=…&state=…`
}

const storedFile = (directory: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path: PathService.Path = yield* Path.Path
    const names = yield* fs.readDirectory(directory)
    const name = names.find((n) => n.endsWith(".token") && !n.startsWith("."))
    if (name === undefined) return Option.none()
    const file = path.join(directory, name)
    const info = yield* fs.stat(file)
    return Option.some({ file, mode: (info.mode & 0o777).toString(8).padStart(4, "0") })
  }).pipe(Effect.mapError(platformFailure("reading the token store")))

/** Plays the browser: follows the authorize URL to Dropbox Sign's redirect, then to the app's callback. */
const consent = (url: string) =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const response = yield* http.get(url)
    const location = response.headers["location"]
    if (response.status < 300 || response.status >= 400 || location === undefined) {
      return yield* fail(`the consent step answered ${response.status} instead of a redirect`)
    }
    yield* ok(`Dropbox Sign answered ${response.status}: redirect to ${withoutQuery(location)}`)
    const callback = yield* http.get(location)
    if (callback.status !== 200) return yield* fail(`the callback server answered ${callback.status}`)
  }).pipe(
    Effect.scoped,
    Effect.mapError((error) => error._tag === "CliError" ? error : platformFailure("consent")(error))
  )

const steps = (options: {
  readonly fake: FakeDropboxSign.Service
  readonly callbackServer: CallbackServer.CallbackServer
  readonly state: string
  readonly directory: string
}) =>
  Effect.gen(function*() {
    const client = yield* OAuthClient.OAuthClient
    const manager = yield* TokenManager.TokenManager
    const store = yield* TokenStore.TokenStore
    const tokenError = (error: Parameters<typeof fromTokenError>[0]) => fromTokenError(error, account)

    yield* Output.step(1, "The app sends the user to Dropbox Sign's authorize URL")
    const url = client.authorizeUrl({ state: options.state })
    yield* detail(url)
    yield* detail("state: 32 random bytes the app keeps, to recognize its own callback")

    yield* Output.step(2, "The user approves access (the demo plays the browser)")
    yield* consent(url)

    yield* Output.step(3, `The callback reaches the app's loopback server (${options.callbackServer.url})`)
    const callback = yield* options.callbackServer.callback.pipe(
      Effect.mapError(tokenError),
      Effect.timeoutFail({ duration: Duration.seconds(5), onTimeout: () => fail("no callback arrived") })
    )
    yield* ok("code and state received; the state matches the one issued (constant-time comparison)")

    yield* Output.step(4, "The app exchanges the single-use code for tokens (POST /oauth/token)")
    const token = yield* manager.authorize(account, callback, options.state).pipe(Effect.mapError(tokenError))
    yield* ok(
      `access and refresh tokens issued; the access token expires in ${Format.duration(token.lifetime)}`
    )

    yield* Output.step(5, "The token is stored")
    const stored = yield* storedFile(options.directory)
    yield* Option.match(stored, {
      onNone: () => ok(`in ${options.directory}`),
      onSome: ({ file, mode }) => ok(`in ${file} (mode ${mode}, written atomically)`)
    })
    yield* detail("tokens stay Redacted: this demo shows their expiry, never their value")

    yield* Output.step(6, "The app calls the API with the token (GET /v3/account)")
    const info = yield* fetchAccount(account)
    yield* ok(`connected as ${info.emailAddress}`)

    yield* Output.step(7, "The token nears expiry")
    const now = yield* Clock.currentTimeMillis
    const expiresAt = DateTime.toEpochMillis(token.expiresAt)
    const windowMillis = Duration.toMillis(token.lifetime) * refreshWindow.ratio
    // Into the refresh window, with a second to spare before expiry.
    const wait = Math.max(0, expiresAt - now - 1000)
    yield* detail(
      `it expires in ${Format.duration(expiresAt - now)}; refreshes start ${
        Format.duration(windowMillis)
      } before expiry; waiting ${Format.duration(wait)}`
    )
    yield* Effect.sleep(Duration.millis(wait))
    yield* ok(`${Format.duration(Math.max(0, expiresAt - (yield* Clock.currentTimeMillis)))} left`)

    yield* Output.step(8, `${concurrentCallers} concurrent callers ask for an access token`)
    const events = yield* manager.subscribe
    const before = yield* options.fake.counters
    yield* Effect.all(
      Array.from({ length: concurrentCallers }, () => manager.accessToken(account)),
      { concurrency: "unbounded", discard: true }
    ).pipe(Effect.mapError(tokenError))
    const outcome = yield* Queue.take(events).pipe(
      Effect.repeat({ until: (event) => !TokenEvent.$is("Stored")(event) }),
      Effect.timeoutFail({ duration: Duration.seconds(5), onTimeout: () => fail("the refresh did not finish") })
    )
    if (!TokenEvent.$is("Refreshed")(outcome)) return yield* fail(`the refresh failed (${outcome._tag})`)
    const after = yield* options.fake.counters
    const refreshes = after.refreshRequests - before.refreshRequests
    yield* ok(`${concurrentCallers} callers, ${refreshes} refresh request${refreshes === 1 ? "" : "s"}`)
    yield* detail(
      "the token was still valid, so every caller got it at once while one shared refresh ran behind them"
    )
    const renewed = yield* manager.token(account).pipe(Effect.mapError(tokenError))
    yield* ok(
      `new access token stored; it expires in ${
        Format.duration(DateTime.distance(yield* DateTime.now, renewed.expiresAt))
      }`
    )

    yield* Output.step(9, "The user revokes the app's access in Dropbox Sign")
    const revoked = yield* options.fake.revokeGrant()
    yield* ok(`${revoked} grant revoked: its access and refresh tokens stop working`)

    yield* Output.step(10, "The app's next API call (GET /v3/account)")
    const result = yield* Effect.either(fetchAccountRaw(account))
    if (result._tag === "Right" || result.left._tag !== "ReauthorizationRequiredError") {
      return yield* fail("the call after the revocation did not require re-authorization")
    }
    yield* detail("401 Unauthorized, then one refresh: Dropbox Sign refuses the refresh token")
    yield* failed(`ReauthorizationRequiredError: ${result.left.message}`)
    const marked = yield* store.get(account).pipe(Effect.mapError(tokenError))
    if (Option.isSome(marked) && marked.value.status === "reauthorization_required") {
      yield* detail(
        "the store marks the account (keeping its refresh token); the app sends the user back to step 1"
      )
    }
  })

/**
 * The demo, given an `HttpClient` (undici in the CLI) and the file system.
 *
 * @since 0.1.0
 * @category constructors
 */
export const run: Effect.Effect<
  void,
  CliError,
  HttpClient.HttpClient | FileSystem.FileSystem | Path.Path
> = Effect.scoped(
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    const fs = yield* FileSystem.FileSystem
    const { FakeDropboxSign } = yield* Testing.load
    const fakeContext = yield* Layer.build(FakeDropboxSign.layerServer({ defaultApp: { accessTokenTtl } })).pipe(
      Effect.mapError((error) => fromServeError(error, 0))
    )
    const fake = Context.get(fakeContext, FakeDropboxSign.FakeDropboxSign)
    const server = Context.get(fakeContext, FakeDropboxSign.FakeDropboxSignServer)
    const state = yield* OAuthState.make
    const callbackServer = yield* CallbackServer.make({ port: 0, expectedState: state }).pipe(
      Effect.mapError((error) => fromServeError(error, 0))
    )
    // A real API app has its callback URL configured once; here it is wherever the loopback server got a port.
    yield* fake.updateApp(FakeDropboxSign.defaultApp.clientId, { callbackUrl: callbackServer.url }).pipe(
      Effect.mapError(() => fail("the fake has no default app"))
    )
    const directory = yield* fs.makeTempDirectoryScoped({ prefix: "dropbox-sign-demo-" }).pipe(
      Effect.mapError(platformFailure("creating a temporary token store"))
    )
    const config = yield* OAuthConfig.make({
      clientId: FakeDropboxSign.defaultApp.clientId,
      clientSecret: FakeDropboxSign.defaultApp.clientSecret,
      oauthUrl: server.oauthUrl,
      apiUrl: server.apiUrl,
      refreshWindow,
      // The demo's tokens live seconds, below the library's 60-second floor for real ones.
      minTokenLifetime: accessTokenTtl
    }).pipe(Effect.mapError(fromConfigError))

    yield* Output.line(`Dropbox Sign OAuth, end to end, against a fake Dropbox Sign on ${server.url}`)
    yield* Output.line("(everything stays on this machine; the token store is a temporary directory)")
    yield* Output.line("")
    yield* steps({ fake, callbackServer, state, directory }).pipe(
      Effect.provide(servicesLayer(config, directory))
    )
    const elapsed = (yield* Clock.currentTimeMillis) - started
    yield* Output.line("")
    yield* Output.line(`Done in ${Format.duration(elapsed)}.`)
  })
)

/**
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "demo",
  {
    verbose: flag("verbose", "Also print the library's logs (debug level) on stderr").pipe(Options.withAlias("v"))
  },
  (flags) => run.pipe(withVerbosity(flags.verbose))
).pipe(
  Command.withDescription(
    "Walk through the whole OAuth flow against an embedded fake Dropbox Sign, narrated step by step: authorize " +
      "URL, consent, callback, code exchange, stored token, GET /account, expiry, one refresh for many callers, " +
      "revocation. Needs no configuration; takes a few seconds"
  )
)
