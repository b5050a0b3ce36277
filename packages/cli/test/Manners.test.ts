/**
 * How the CLI behaves at its edges, in process: defaults in `--help`, no ANSI escapes without a color terminal, one
 * plain line for an out-of-range flag, and what a signal does to a running command. Process.test.ts checks the same
 * through real signals and pipes.
 */
import * as NodePath from "node:path"

import { Browser, Cli, Tty } from "@dropbox-sign-effect/cli"
import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Deferred, Effect, Fiber, Layer, Schedule, Schema } from "effect"

import { capture, envFor, runCli, tempDir } from "./utils/harness.js"

const TestLive = Layer.mergeAll(FakeDropboxSign.layerClient, NodeContext.layer, Browser.layerNoop)

const commands = ["authorize", "token", "refresh", "status", "account", "logout", "fake-server", "demo"] as const

/** Options that `@effect/cli` adds to every command; they are not ours to document. */
const builtIn = /^(--completions|--log-level|\(-h, --help\)|--wizard|--version)(\s|$)/

/** The blocks of the OPTIONS section of a help text: each starts with the option's usage on an unindented line. */
const optionBlocks = (help: string): ReadonlyArray<string> => {
  const section = help.split(/^OPTIONS$/m)[1]?.split(/^COMMANDS$/m)[0] ?? ""
  return section.split(/\n(?=\S)/).map((block) => block.trim()).filter((block) => block.length > 0)
}

const ansi = new RegExp(String.raw`\u001b\[`)

describe("--help", () => {
  it.scoped("states the default of every option of every command", () =>
    Effect.gen(function*() {
      for (const command of commands) {
        const help = yield* runCli([command, "--help"], {})
        expect(help.code).toBe(0)
        const blocks = optionBlocks(help.stdout).filter((block) => !builtIn.test(block))
        expect(blocks.length, command).toBeGreaterThan(0)
        for (const block of blocks) {
          expect(block, `${command}: ${block.split("\n")[0]}`).toMatch(/Default: |\(default: /)
        }
      }
      expect((yield* runCli(["authorize", "--help"], {})).stdout).toContain("Default: 8765.")
    }).pipe(Effect.provide(TestLive)))

  it.scoped("has no ANSI escapes unless the terminal shows colors", () =>
    Effect.gen(function*() {
      const plain = yield* runCli(["authorize", "--help"], {})
      expect(plain.stdout).toContain("OPTIONS")
      expect(plain.stdout).not.toMatch(ansi)
      const usage = yield* runCli(["authorize", "--port", "x"], {})
      expect(usage.code).toBe(2)
      expect(usage.stderr).not.toMatch(ansi)
      // The same on a color terminal: the escapes are there, so the check above can fail.
      const colors = yield* runCli(["authorize", "--help"], {}).pipe(
        Effect.provideService(Tty.Tty, { ...Tty.plain, stdoutColors: true, stderrColors: true })
      )
      expect(colors.stdout).toMatch(ansi)
    }).pipe(Effect.provide(TestLive)))
})

describe("flag values", () => {
  it.scoped("out of range: one plain line on stderr and exit 2", () =>
    Effect.gen(function*() {
      expect(yield* runCli(["authorize", "--port", "99999"], {})).toEqual({
        code: 2,
        stdout: "",
        stderr: "--port must be an integer from 0 to 65535, got 99999\n"
      })
      expect(yield* runCli(["authorize", "--timeout", "0"], {})).toEqual({
        code: 2,
        stdout: "",
        stderr: "--timeout must be an integer of at least 1, got 0\n"
      })
      expect(yield* runCli(["fake-server", "--port", "-1"], {})).toEqual({
        code: 2,
        stdout: "",
        stderr: "--port must be an integer from 0 to 65535, got -1\n"
      })
    }).pipe(Effect.provide(TestLive)))
})

describe("signals", () => {
  const argv = (args: ReadonlyArray<string>) => ["node", "dropbox-sign-oauth", ...args]

  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    it.live(`${signal} cancels a waiting authorize: one line, exit ${code}`, () =>
      Effect.gen(function*() {
        const directory = yield* tempDir
        const captured = capture()
        const received = yield* Deferred.make<Cli.Signal>()
        const fiber = yield* Cli.mainUntil(
          argv(["authorize", "--port", "0", "--no-open", "--timeout", "60"]),
          Deferred.await(received)
        ).pipe(
          Effect.withConsole(captured.console),
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(envFor(directory))))),
          Effect.fork
        )
        // Waiting for the callback: the server is listening.
        yield* Effect.suspend(() =>
          captured.stdout().includes("Listening for the callback") ? Effect.void : Effect.fail("not yet")
        ).pipe(Effect.retry(Schedule.spaced("20 millis").pipe(Schedule.upTo("20 seconds"))), Effect.orDie)
        yield* Deferred.succeed(received, signal)
        expect(yield* Fiber.join(fiber)).toBe(code)
        // The progress note ("Waiting for the authorization callback…"), then the one line about the cancellation.
        expect(captured.stderr().trimEnd().split("\n").at(-1)).toBe(
          `dropbox-sign-oauth authorize: cancelled by ${signal}`
        )
        expect(captured.stderr().match(/cancelled/g)).toHaveLength(1)
      }).pipe(Effect.scoped, Effect.provide(TestLive)))
  }

  it.scoped("a command that ends first keeps its own exit code", () =>
    Effect.gen(function*() {
      const captured = capture()
      const code = yield* Cli.mainUntil(argv(["status", "--store-dir", yield* tempDir]), Effect.never).pipe(
        Effect.withConsole(captured.console)
      )
      expect(code).toBe(0)
      expect(captured.stderr()).not.toContain("cancelled")
    }).pipe(Effect.provide(TestLive)))
})

describe("--version", () => {
  it.effect("is the package's version (`pnpm version-packages` keeps them together)", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const text = yield* fs.readFileString(NodePath.join(import.meta.dirname, "..", "package.json"))
      const manifest = yield* Schema.decodeUnknown(Schema.parseJson(Schema.Struct({ version: Schema.String })))(text)
      expect(Cli.version).toBe(manifest.version)
    }).pipe(Effect.provide(NodeContext.layer)))
})
