/**
 * The parent side of the fleet tests: child processes running `child.ts`, one fake Dropbox Sign server they all call,
 * and a migrated schema of their own in PostgreSQL.
 */
import * as Fs from "node:fs/promises"
import * as Os from "node:os"
import * as Path from "node:path"

import { AccountId, OAuthConfig, OAuthState, OAuthToken, TokenManager, TokenStore } from "@dropbox-sign-effect/oauth"
import { SqlTokenStore } from "@dropbox-sign-effect/sql"
import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import { Command, type CommandExecutor } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import type { SqlClient } from "@effect/sql"
import { afterAll } from "@effect/vitest"
import {
  Context,
  DateTime,
  Duration,
  Effect,
  Exit,
  Layer,
  Queue,
  Redacted,
  Ref,
  Schedule,
  Schema,
  Scope,
  Stream
} from "effect"
import * as Esbuild from "esbuild"

import * as Postgres from "../utils/postgres.js"
import * as Protocol from "./protocol.js"

const packageRoot = Path.resolve(import.meta.dirname, "..", "..")
const childScript = Path.join(import.meta.dirname, "child.ts")

/**
 * `child.ts` and everything it imports, the workspace packages' TypeScript sources included (the `source` export
 * condition), bundled into one ES module once per test file.
 *
 * Why not `node --conditions=source --import tsx child.ts`: on this project's 2-core machines tsx's loader hooks
 * made each child take about 4 s to start (plain Node loads the bundle in about 1 s), so eight children spent most
 * of a test's time budget starting. The bundle is built from the same sources, so nothing needs building first.
 */
const bundleChild = Effect.acquireRelease(
  Effect.tryPromise({
    try: async () => {
      const directory = await Fs.mkdtemp(Path.join(Os.tmpdir(), "dropbox-sign-fleet-"))
      const outfile = Path.join(directory, "child.mjs")
      await Esbuild.build({
        entryPoints: [childScript],
        outfile,
        bundle: true,
        platform: "node",
        format: "esm",
        target: "node20",
        conditions: ["source"],
        logLevel: "warning",
        // Bundled CommonJS dependencies (pg) call `require` for Node's built-ins.
        banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" }
      })
      return { directory, outfile }
    },
    catch: (cause) => new Error(`bundling ${childScript} failed: ${String(cause)}`)
  }),
  ({ directory }) => Effect.promise(() => Fs.rm(directory, { recursive: true, force: true }))
)

const bundleScope = Effect.runSync(Scope.make())
afterAll(() => Effect.runPromise(Scope.close(bundleScope, Exit.void)))
const childBundle = Effect.runSync(
  Effect.cached(Effect.map(Scope.extend(bundleChild, bundleScope), ({ outfile }) => outfile))
)

export const account = AccountId.make("fleet-account")

export interface Child {
  readonly pid: number
  readonly send: (command: Protocol.Command) => Effect.Effect<void>
  /** The child's next message; fails on a `Failed` message, after `timeout`, or if the child exits. */
  readonly next: (timeout?: Duration.DurationInput) => Effect.Effect<Protocol.Message, Error>
  readonly kill: (signal: "SIGKILL" | "SIGTERM") => Effect.Effect<void>
}

/** Starts `child.ts` with `config`; the scope kills it if it is still running. */
export const spawn = (
  config: Protocol.Config
): Effect.Effect<Child, Error, CommandExecutor.CommandExecutor | Scope.Scope> =>
  Effect.gen(function*(): Effect.fn.Return<Child, unknown, CommandExecutor.CommandExecutor | Scope.Scope> {
    const json = yield* Schema.encode(Protocol.ConfigJson)(config)
    const script = yield* childBundle
    const process = yield* Command.make(globalThis.process.execPath, script).pipe(
      Command.workingDirectory(packageRoot),
      Command.env({ FLEET_CONFIG: json }),
      Command.start
    )
    const commands = yield* Queue.unbounded<string>()
    const messages = yield* Queue.unbounded<Protocol.Message | Error>()
    const stderr = yield* Ref.make("")
    yield* Stream.fromQueue(commands).pipe(Stream.encodeText, Stream.run(process.stdin), Effect.forkScoped)
    yield* process.stderr.pipe(
      Stream.decodeText(),
      Stream.runForEach((text) => Ref.update(stderr, (all) => all + text)),
      Effect.forkScoped
    )
    yield* process.stdout.pipe(
      Stream.decodeText(),
      Stream.splitLines,
      Stream.runForEach((line) =>
        Effect.flatMap(
          Effect.either(Schema.decodeUnknown(Protocol.MessageJson)(line)),
          (decoded) =>
            decoded._tag === "Right"
              ? Queue.offer(messages, decoded.right)
              : Effect.logWarning(`fleet child ${process.pid}: ${line}`)
        )
      ),
      Effect.ensuring(
        Effect.flatMap(
          Ref.get(stderr),
          (text) => Queue.offer(messages, new Error(`child ${process.pid} closed its output; stderr:\n${text}`))
        )
      ),
      Effect.forkScoped
    )
    return {
      pid: process.pid,
      send: (command) =>
        Effect.flatMap(
          Effect.orDie(Schema.encode(Protocol.CommandJson)(command)),
          (line) => Queue.offer(commands, `${line}\n`)
        ),
      next: (timeout: Duration.DurationInput = Duration.seconds(20)) =>
        Queue.take(messages).pipe(
          Effect.timeoutFail({
            duration: timeout,
            onTimeout: () => new Error(`child ${process.pid} said nothing for ${Duration.format(timeout)}`)
          }),
          Effect.flatMap((message) =>
            message instanceof Error
              ? Effect.fail(message)
              : message._tag === "Failed"
              ? Effect.fail(new Error(`child ${process.pid} failed: ${message.error}`))
              : Effect.succeed(message)
          )
        ),
      kill: (signal) => Effect.orDie(process.kill(signal))
    }
  }).pipe(Effect.mapError((error) => error instanceof Error ? error : new Error(String(error))))

/** The next message of `child`, which must have tag `tag`. */
export const expect = <Tag extends Protocol.Message["_tag"]>(
  child: Child,
  tag: Tag,
  timeout?: Duration.DurationInput
): Effect.Effect<Extract<Protocol.Message, { readonly _tag: Tag }>, Error> =>
  Effect.filterOrFail(
    child.next(timeout),
    (message): message is Extract<Protocol.Message, { readonly _tag: Tag }> => message._tag === tag,
    (message) => new Error(`child ${child.pid}: expected ${tag}, got ${JSON.stringify(message)}`)
  )

export interface Fleet {
  readonly fake: FakeDropboxSign.Service
  readonly store: TokenStore.Service
  readonly schema: string
  /** The configuration of a child on this fleet's database and fake. */
  readonly config: (options?: Partial<Protocol.Config>) => Protocol.Config
  /** Authorizes `account` (default: the fleet's) through the fake, as the consent step would. */
  readonly authorize: (id?: AccountId.AccountId) => Effect.Effect<TokenStore.StoredToken, Error>
  /** Rewrites the stored token as expired a second ago, and expires it at the fake too. */
  readonly expire: Effect.Effect<TokenStore.StoredToken, Error>
  /** The prefix of every child's `application_name`: `Postgres.terminateConnections` of it kills the fleet's. */
  readonly applicationName: string
  /** The fingerprint of the stored access token. */
  readonly storedFingerprint: Effect.Effect<string, Error>
}

const toError = (error: unknown): Error => error instanceof Error ? error : new Error(String(error))

/** One fake server, one migrated schema and the parent's own store on it. */
export const fleet = (
  options: FakeDropboxSign.ServerOptions = {}
): Effect.Effect<Fleet, Error, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function*() {
    const context = yield* Effect.mapError(Layer.build(FakeDropboxSign.layerServer(options)), toError)
    const fake = Context.get(context, FakeDropboxSign.FakeDropboxSign)
    const server = Context.get(context, FakeDropboxSign.FakeDropboxSignServer)
    const schema = yield* Effect.mapError(Postgres.migratedSchema, toError)
    const store = yield* Effect.mapError(SqlTokenStore.make({ schema }), toError)
    const app = FakeDropboxSign.defaultApp
    const managerLayer = TokenManager.layerWithClient({ backgroundRefresh: false }).pipe(
      Layer.provide(Layer.succeed(TokenStore.TokenStore, store)),
      Layer.provide(OAuthConfig.layer({
        clientId: app.clientId,
        clientSecret: app.clientSecret,
        oauthUrl: server.oauthUrl,
        apiUrl: server.apiUrl
      })),
      Layer.provide(NodeHttpClient.layerUndici)
    )
    const authorize = (id: AccountId.AccountId = account) =>
      Effect.gen(function*() {
        const manager = yield* TokenManager.TokenManager
        const state = yield* OAuthState.make
        const code = yield* fake.issueCode({ state })
        yield* manager.authorize(id, { code, state }, state)
        return yield* Effect.flatten(store.get(id))
      }).pipe(Effect.scoped, Effect.provide(managerLayer), Effect.mapError(toError))
    const applicationName = `dst-fleet-${schema}`
    const expire = Effect.gen(function*() {
      const stored = yield* Effect.flatten(store.get(account))
      const now = yield* DateTime.now
      const token = new OAuthToken.OAuthToken({
        accessToken: stored.token.accessToken,
        refreshToken: stored.token.refreshToken,
        tokenType: stored.token.tokenType,
        issuedAt: DateTime.subtract(now, { hours: 1 }),
        expiresAt: DateTime.subtract(now, { seconds: 1 })
      })
      yield* fake.expireAllTokens
      return yield* store.set(account, token, { expectedVersion: stored.version })
    }).pipe(Effect.mapError(toError))
    const storedFingerprint = Effect.map(
      Effect.flatten(store.get(account)),
      (stored) => Protocol.fingerprint(Redacted.value(stored.token.accessToken))
    ).pipe(Effect.mapError(toError))
    const config = (overrides: Partial<Protocol.Config> = {}) =>
      Protocol.Config.make({
        mode: "worker",
        databaseUrl: Postgres.databaseUrl,
        schema,
        account,
        lockTimeoutMillis: 10_000,
        oauthUrl: server.oauthUrl,
        apiUrl: server.apiUrl,
        clientId: app.clientId,
        clientSecret: Redacted.value(app.clientSecret),
        maxConnections: 3,
        applicationName,
        ...overrides
      })
    return { fake, store, schema, config, authorize, expire, storedFingerprint, applicationName }
  })

/** Waits until some session waits for (has not been granted) the refresh lock of the fleet's table. */
export const awaitLockWaiter = (schema: string): Effect.Effect<void, Error, SqlClient.SqlClient> =>
  Postgres.lockWaiters(schema).pipe(
    Effect.repeat({ until: (waiters) => waiters > 0, schedule: Schedule.spaced("20 millis") }),
    Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("nobody waited for the refresh lock") }),
    Effect.mapError(toError),
    Effect.asVoid
  )
