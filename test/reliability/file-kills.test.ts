/**
 * Processes killed (SIGKILL) in the middle of file-store writes, twenty times over one directory: no kill leaves a
 * torn entry, and no temporary file (which may hold a whole plaintext entry, refresh token included) survives the next
 * opening of the store. Also measures how long one durable write takes, which is the crash window the README states.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

import { AccountId, TokenStore } from "@dropbox-sign-effect/oauth"
import { NodeContext } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Esbuild from "esbuild"

const kills = 20
const account = AccountId.make("file-kills")
const workspace = Fs.mkdtempSync(Path.join(Os.tmpdir(), "dse-file-kills-"))
const bundle = Path.join(workspace, "fileWriter.mjs")
const directory = Path.join(workspace, "tokens")

beforeAll(async () => {
  // One bundle of the writer and the store's sources: plain Node starts it in a fraction of tsx's time.
  await Esbuild.build({
    entryPoints: [Path.join(import.meta.dirname, "children", "fileWriter.ts")],
    outfile: bundle,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["source"],
    logLevel: "warning",
    // Bundled CommonJS dependencies call `require` for Node's built-ins.
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" }
  })
})
afterAll(() => Fs.rmSync(workspace, { recursive: true, force: true }))

interface Run {
  readonly lastWritten: number
  readonly writeMillis: ReadonlyArray<number>
}

/** Starts a writer, lets it complete a few writes, then kills it at a random instant of a later one. */
const writeThenKill = (): Promise<Run> =>
  new Promise((resolve, reject) => {
    const child = ChildProcess.spawn(process.execPath, [bundle, directory], { stdio: ["ignore", "pipe", "pipe"] })
    const writeMillis: Array<number> = []
    let lastWritten = 0
    let buffered = ""
    let stderr = ""
    let armed = false
    child.stderr.on("data", (chunk: Buffer) => stderr += chunk.toString())
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString()
      const lines = buffered.split("\n")
      buffered = lines.pop() ?? ""
      for (const line of lines) {
        const [version, millis] = line.split(" ").map(Number)
        lastWritten = version!
        writeMillis.push(millis!)
      }
      if (!armed && writeMillis.length >= 3) {
        armed = true
        // Somewhere within the next write or two, whose durable part (fsync) takes milliseconds.
        const median = [...writeMillis].sort((a, b) => a - b)[1]!
        setTimeout(() => child.kill("SIGKILL"), Math.random() * Math.max(1, median) * 2)
      }
    })
    child.on("exit", (code, signal) =>
      signal === "SIGKILL" ? resolve({ lastWritten, writeMillis }) : reject(
        new Error(`the writer exited (${code ?? signal}) before it was killed: ${stderr}`)
      ))
  })

const temporaryFiles = () => Fs.readdirSync(directory).filter((name) => name.endsWith(".tmp"))

describe("file store: writers killed mid-write", () => {
  it.live(
    `${kills} kills: never a torn entry, no temporary file after the store opens, delete leaves nothing`,
    () =>
      Effect.gen(function*() {
        let leftovers = 0
        const writes: Array<number> = []
        for (let kill = 1; kill <= kills; kill++) {
          const run = yield* Effect.promise(writeThenKill)
          writes.push(...run.writeMillis)
          leftovers += temporaryFiles().length
          // Opening the store is what a restarted process does: it removes what the killed writer left.
          const store = yield* TokenStore.makeFileSystem(directory)
          expect(temporaryFiles()).toStrictEqual([])
          const entry = yield* Effect.flatten(store.get(account))
          expect(entry.version).toBeGreaterThanOrEqual(run.lastWritten)
        }
        const store = yield* TokenStore.makeFileSystem(directory)
        yield* store.delete(account)
        expect(Fs.readdirSync(directory)).toStrictEqual([])

        const sorted = [...writes].sort((a, b) => a - b)
        const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
        console.log(
          `file store: ${kills} writers killed mid-write, ${leftovers} temporary files left behind and removed; ` +
            `durable write ${at(0.5)} ms median, ${at(0.95)} ms p95 (${writes.length} writes)`
        )
      }).pipe(Effect.provide(NodeContext.layer)),
    { timeout: 120_000 }
  )
})
