/**
 * Runs the CLI in process: `Cli.main` with a capturing `Console`, a `ConfigProvider` standing in for the environment,
 * and the fake Dropbox Sign behind the `HttpClient`.
 */
import * as Net from "node:net"

import { Cli } from "@dropbox-sign-effect/cli"
import { Settings } from "@dropbox-sign-effect/cli"
import type { OAuthToken } from "@dropbox-sign-effect/oauth"
import { AccountId, OAuthConfig, TokenManager } from "@dropbox-sign-effect/oauth"
import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import { FileSystem } from "@effect/platform"
import { ConfigProvider, Console, Effect, Inspectable, Redacted } from "effect"

export interface Captured {
  readonly console: Console.Console
  readonly stdout: () => string
  readonly stderr: () => string
}

const render = (args: ReadonlyArray<unknown>): string =>
  args.map((arg) => typeof arg === "string" ? arg : Inspectable.format(arg)).join(" ")

/** A `Console` that records `log`/`info` as stdout and everything else as stderr. */
export const capture = (): Captured => {
  const out: Array<string> = []
  const err: Array<string> = []
  const toOut = (...args: ReadonlyArray<unknown>) => {
    out.push(render(args))
  }
  const toErr = (...args: ReadonlyArray<unknown>) => {
    err.push(render(args))
  }
  const noop = () => {}
  const unsafe: Console.UnsafeConsole = {
    assert: noop,
    clear: noop,
    count: noop,
    countReset: noop,
    debug: toErr,
    dir: toErr,
    dirxml: toErr,
    error: toErr,
    group: noop,
    groupCollapsed: noop,
    groupEnd: noop,
    info: toOut,
    log: toOut,
    table: toOut,
    time: noop,
    timeEnd: noop,
    timeLog: noop,
    trace: toErr,
    warn: toErr
  }
  const lift = (f: (...args: ReadonlyArray<unknown>) => void) => (...args: ReadonlyArray<unknown>) =>
    Effect.sync(() => f(...args))
  const console: Console.Console = {
    [Console.TypeId]: Console.TypeId,
    assert: () => Effect.void,
    clear: Effect.void,
    count: () => Effect.void,
    countReset: () => Effect.void,
    debug: lift(toErr),
    dir: lift(toErr),
    dirxml: lift(toErr),
    error: lift(toErr),
    group: () => Effect.void,
    groupEnd: Effect.void,
    info: lift(toOut),
    log: lift(toOut),
    table: lift(toOut),
    time: () => Effect.void,
    timeEnd: () => Effect.void,
    timeLog: () => Effect.void,
    trace: lift(toErr),
    warn: lift(toErr),
    unsafe
  }
  const joined = (lines: ReadonlyArray<string>) => lines.map((line) => `${line}\n`).join("")
  return { console, stdout: () => joined(out), stderr: () => joined(err) }
}

export interface Result {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** The environment a test gives the CLI; nothing is read from `process.env`. */
export type Env = Readonly<Record<string, string>>

export const clientId = FakeDropboxSign.defaultApp.clientId
export const clientSecret = Redacted.value(FakeDropboxSign.defaultApp.clientSecret)

/** The fake's credentials and a token directory. */
export const envFor = (directory: string, extra: Env = {}): Env => ({
  DROPBOX_SIGN_CLIENT_ID: clientId,
  DROPBOX_SIGN_CLIENT_SECRET: clientSecret,
  DROPBOX_SIGN_TOKEN_DIR: directory,
  ...extra
})

/** Runs `dropbox-sign-oauth ...args` in process. */
export const runCli = (
  args: ReadonlyArray<string>,
  env: Env,
  captured: Captured = capture()
): Effect.Effect<Result, never, Cli.Environment> =>
  Cli.main(["node", "dropbox-sign-oauth", ...args]).pipe(
    Effect.withConsole(captured.console),
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    Effect.map((code) => ({ code, stdout: captured.stdout(), stderr: captured.stderr() }))
  )

/** A scoped temporary directory: tests never touch the real home directory. */
export const tempDir = Effect.flatMap(
  FileSystem.FileSystem,
  (fs) => fs.makeTempDirectoryScoped({ prefix: "dropbox-sign-cli-test-" })
).pipe(Effect.orDie)

/**
 * Connects `account` as the consent step would, skipping the browser, and stores its token in `directory` through
 * the same services the CLI builds. `oauthUrl` / `apiUrl` point at a loopback fake; by default the in-memory client
 * answers whatever the host.
 */
export const seed = (
  directory: string,
  account: AccountId.AccountId = AccountId.defaultAccount,
  urls: { readonly oauthUrl?: string; readonly apiUrl?: string } = {}
) =>
  Effect.gen(function*() {
    const fake = yield* FakeDropboxSign.FakeDropboxSign
    const config = yield* OAuthConfig.make({
      clientId,
      clientSecret: FakeDropboxSign.defaultApp.clientSecret,
      oauthUrl: urls.oauthUrl,
      apiUrl: urls.apiUrl
    })
    const code = yield* fake.issueCode({ state: "seed" })
    return yield* Effect.flatMap(
      TokenManager.TokenManager,
      (manager) => manager.authorize(account, { code, state: "seed" }, "seed")
    ).pipe(Effect.provide(Settings.servicesLayer(config, directory)))
  }).pipe(Effect.orDie)

/** The secrets of a token, to check that no output but `token` contains them. */
export const secretsOf = (token: OAuthToken.OAuthToken): ReadonlyArray<string> => [
  Redacted.value(token.accessToken),
  Redacted.value(token.refreshToken)
]

/** The files of a directory with their contents, to check that a failed command left the store untouched. */
export const snapshot = (directory: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const names = (yield* fs.readDirectory(directory)).sort()
    return yield* Effect.forEach(names, (name) =>
      Effect.map(fs.readFileString(`${directory}/${name}`), (content) => `${name}:${content}`))
  }).pipe(Effect.orDie)

/** A loopback port held by another listener for the scope's lifetime. */
export const occupyPort = Effect.gen(function*() {
  const server = yield* Effect.acquireRelease(
    Effect.async<Net.Server>((resume) => {
      const server = Net.createServer()
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
      })
  )
  const address = server.address()
  return typeof address === "object" && address !== null ? address.port : 0
})

/** A port that was free a moment ago. */
export const freePort = Effect.scoped(occupyPort)
