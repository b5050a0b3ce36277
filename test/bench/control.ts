/**
 * Child processes of the benchmarks: the fake Dropbox Sign (`server.ts`), the memory probe and the fleet's processes.
 * Each is killed when its scope closes, whatever the outcome, and on process exit as a last resort.
 *
 * The children run from one esbuild bundle of their TypeScript sources (the workspace packages' `source` condition),
 * built once per run: under tsx's loader hooks a child takes seconds to start on a 2-core machine, and the fleet
 * starts eight at once.
 */
import { type ChildProcess, fork, type Serializable } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Readline from "node:readline"

import { Deferred, Duration, Effect, Queue, Schema, type Scope } from "effect"
import * as Esbuild from "esbuild"

export const benchDir = import.meta.dirname

/** The SQL store's sources, when the package exists (the fleet storm needs it). */
export const sqlIndex = Path.join(benchDir, "..", "..", "packages", "sql", "src", "index.ts")

export type Entry = "server" | "plainServer" | "memoryChild" | "fleetChild"

export interface Bundle {
  readonly entry: (name: Entry) => string
  /** The bundled `@dropbox-sign-effect/sql`, sharing its chunks (one `effect`) with the entries. */
  readonly sqlStore: string | undefined
}

/** Bundles the child entries into a temporary directory, removed with the scope. */
export const bundle: Effect.Effect<Bundle, Error, Scope.Scope> = Effect.gen(function*() {
  const directory = yield* Effect.acquireRelease(
    Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "dropbox-sign-bench-"))),
    (directory) => Effect.sync(() => Fs.rmSync(directory, { recursive: true, force: true }))
  )
  const withSql = Fs.existsSync(sqlIndex)
  yield* Effect.tryPromise({
    try: () =>
      Esbuild.build({
        entryPoints: {
          server: Path.join(benchDir, "server.ts"),
          plainServer: Path.join(benchDir, "plainServer.ts"),
          memoryChild: Path.join(benchDir, "memoryChild.ts"),
          fleetChild: Path.join(benchDir, "fleetChild.ts"),
          ...(withSql ? { sqlStore: sqlIndex } : {})
        },
        outdir: directory,
        outExtension: { ".js": ".mjs" },
        bundle: true,
        splitting: true,
        format: "esm",
        platform: "node",
        target: "node20",
        conditions: ["source"],
        logLevel: "warning",
        // Bundled CommonJS dependencies (pg, undici's optional parts) call `require` for Node's built-ins.
        banner: {
          js:
            "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
        }
      }),
    catch: (cause) => new Error(`bundling the benchmark's child processes failed: ${String(cause)}`)
  })
  return {
    entry: (name) => Path.join(directory, `${name}.mjs`),
    sqlStore: withSql ? Path.join(directory, "sqlStore.mjs") : undefined
  }
})

interface SpawnOptions {
  readonly env?: Record<string, string> | undefined
  readonly execArgv?: ReadonlyArray<string> | undefined
  readonly stdout?: "pipe" | "inherit" | undefined
}

const stop = (child: ChildProcess) =>
  Effect.async<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
    child.kill("SIGTERM")
  }).pipe(
    Effect.timeoutTo({
      duration: Duration.seconds(3),
      onSuccess: () => undefined,
      onTimeout: () => child.kill("SIGKILL")
    }),
    Effect.asVoid
  )

/** Forks a bundled entry with an IPC channel, for the scope's lifetime. */
const spawn = (bundled: Bundle, name: Entry, options: SpawnOptions = {}) =>
  Effect.gen(function*() {
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        fork(bundled.entry(name), [], {
          execArgv: [...(options.execArgv ?? [])],
          env: { ...process.env, ...options.env },
          stdio: ["ignore", options.stdout ?? "inherit", "inherit", "ipc"]
        })
      ),
      stop
    )
    const killOnExit = () => child.kill("SIGKILL")
    process.once("exit", killOnExit)
    yield* Effect.addFinalizer(() => Effect.sync(() => process.off("exit", killOnExit)))
    return child
  })

// -----------------------------------------------------------------------------
// the fake server
// -----------------------------------------------------------------------------

type Op =
  | { readonly op: "counters" }
  | { readonly op: "issueCode"; readonly clientId?: string | undefined; readonly state: string }
  | { readonly op: "registerApp"; readonly accessTokenTtlMillis?: number | undefined }

export type Command = Op & { readonly id: number }

export type Reply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string }

const Counters = Schema.Struct({
  requests: Schema.Number,
  refreshRequests: Schema.Number,
  refreshesServed: Schema.Number
})
export type Counters = typeof Counters.Type

const App = Schema.Struct({ clientId: Schema.String, clientSecret: Schema.String })
export type App = typeof App.Type

export interface FakeServer {
  readonly url: string
  readonly pid: number
  readonly counters: Effect.Effect<Counters>
  readonly issueCode: (options: { readonly clientId?: string | undefined; readonly state: string }) => Effect.Effect<
    string
  >
  readonly registerApp: (options: { readonly accessTokenTtlMillis?: number | undefined }) => Effect.Effect<App>
}

const ServerHello = Schema.parseJson(Schema.Struct({ url: Schema.String }))

/** Starts a server entry and reads the URL it prints once it listens. */
const listening = (bundled: Bundle, name: "server" | "plainServer") =>
  Effect.gen(function*() {
    const child = yield* spawn(bundled, name, { stdout: "pipe" })
    const hello = yield* Effect.async<string, Error>((resume) => {
      const lines = Readline.createInterface({ input: child.stdout! })
      child.once("exit", (code) => resume(Effect.fail(new Error(`${name} exited early (${code})`))))
      lines.once("line", (line) => resume(Effect.succeed(line)))
    }).pipe(Effect.timeoutFail({ duration: Duration.seconds(60), onTimeout: () => new Error(`no ${name}`) }))
    const { url } = yield* Effect.mapError(Schema.decode(ServerHello)(hello), (e) => new Error(e.message))
    return { child, url }
  })

/** The plain fixed-answer server in a child process, killed when the scope closes. */
export const startPlain = (
  bundled: Bundle
): Effect.Effect<{ readonly url: string; readonly pid: number }, Error, Scope.Scope> =>
  Effect.map(listening(bundled, "plainServer"), ({ child, url }) => ({ url, pid: child.pid ?? 0 }))

/** The fake server in a child process, killed when the scope closes. */
export const start = (bundled: Bundle): Effect.Effect<FakeServer, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const { child, url } = yield* listening(bundled, "server")

    const pending = new Map<number, Deferred.Deferred<unknown, Error>>()
    let nextId = 0
    child.on("message", (reply: Reply) => {
      const deferred = pending.get(reply.id)
      if (deferred === undefined) return
      pending.delete(reply.id)
      Deferred.unsafeDone(deferred, reply.ok ? Effect.succeed(reply.value) : Effect.fail(new Error(reply.error)))
    })
    const call = (op: Op): Effect.Effect<unknown> =>
      Effect.gen(function*() {
        const deferred = yield* Deferred.make<unknown, Error>()
        const id = nextId++
        pending.set(id, deferred)
        const command: Command = { ...op, id }
        child.send(command)
        return yield* Deferred.await(deferred)
      }).pipe(Effect.timeout(Duration.seconds(30)), Effect.orDie)
    const decode = <A, I>(schema: Schema.Schema<A, I>) => (value: unknown) =>
      Effect.orDie(Schema.decodeUnknown(schema)(value))
    return {
      url,
      pid: child.pid ?? 0,
      counters: Effect.flatMap(call({ op: "counters" }), decode(Counters)),
      issueCode: (options) => Effect.flatMap(call({ op: "issueCode", ...options }), decode(Schema.String)),
      registerApp: (options) => Effect.flatMap(call({ op: "registerApp", ...options }), decode(App))
    }
  })

// -----------------------------------------------------------------------------
// probes and workers
// -----------------------------------------------------------------------------

const nextMessage = (child: ChildProcess, name: Entry, messages: Queue.Dequeue<unknown>, timeout: Duration.Duration) =>
  Queue.take(messages).pipe(
    Effect.timeoutFail({
      duration: timeout,
      onTimeout: () => new Error(`${name} (pid ${child.pid}) said nothing for ${Duration.format(timeout)}`)
    }),
    Effect.flatMap((message) => message instanceof Error ? Effect.fail(message) : Effect.succeed(message))
  )

const messagesOf = (child: ChildProcess, name: Entry) =>
  Effect.tap(Queue.unbounded<unknown>(), (messages) =>
    Effect.sync(() => {
      child.on("message", (message) => Queue.unsafeOffer(messages, message))
      child.once(
        "exit",
        (code) => Queue.unsafeOffer(messages, new Error(`${name} (pid ${child.pid}) exited (${code})`))
      )
    }))

/** Runs a bundled entry and returns the first message it sends; killed when the scope closes. */
export const runChild = (
  bundled: Bundle,
  name: Entry,
  options: SpawnOptions & { readonly timeout: Duration.DurationInput }
): Effect.Effect<unknown, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const child = yield* spawn(bundled, name, options)
    const messages = yield* messagesOf(child, name)
    return yield* nextMessage(child, name, messages, Duration.decode(options.timeout))
  })

/** A child process that answers one message with one message, in order. */
export interface Worker {
  readonly pid: number
  readonly request: (message: Serializable) => Effect.Effect<unknown, Error>
}

/** Starts a bundled entry and waits for its first message (it is ready); killed when the scope closes. */
export const startWorker = (
  bundled: Bundle,
  name: Entry,
  options: SpawnOptions & { readonly timeout: Duration.DurationInput }
): Effect.Effect<Worker, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const child = yield* spawn(bundled, name, options)
    const messages = yield* messagesOf(child, name)
    const timeout = Duration.decode(options.timeout)
    yield* nextMessage(child, name, messages, timeout)
    return {
      pid: child.pid ?? 0,
      request: (message) =>
        Effect.zipRight(Effect.sync(() => child.send(message)), nextMessage(child, name, messages, timeout))
    }
  })
