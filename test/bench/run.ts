/**
 * `pnpm bench`: every benchmark in one run, peers interleaved with ours round by round, against servers in child
 * processes (a plain fixed-answer one, and the fake Dropbox Sign). Prints tables with ratios (median of per-round
 * ratios, min–max) and the load average beside each, and writes `test/bench/results.json`. `BENCH_QUICK=1` shrinks
 * every count (a smoke run; its numbers mean little).
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"

import * as Control from "./control.js"
import * as Fleet from "./fleet.js"
import * as HotPath from "./hotPath.js"
import * as Memory from "./memory.js"
import * as Report from "./report.js"
import * as RoundTrips from "./roundTrips.js"
import { defaultCredentials, grant, machine, versions } from "./setup.js"
import * as Storm from "./storm.js"

const quick = process.env.BENCH_QUICK === "1"

const settings = {
  roundTrips: quick ?
    { rounds: 2, warmupRequests: 200, sequentialRequests: 100, concurrentRequests: 300, concurrency: 32 } :
    { rounds: 5, warmupRequests: 300, sequentialRequests: 200, concurrentRequests: 600, concurrency: 32 },
  fakeRoundTrips: quick ?
    { rounds: 2, warmupRequests: 100, sequentialRequests: 100, concurrentRequests: 200, concurrency: 32 } :
    { rounds: 5, warmupRequests: 200, sequentialRequests: 150, concurrentRequests: 400, concurrency: 32 },
  hotPath: quick ? { rounds: 2, operations: 20_000 } : { rounds: 7, operations: 200_000 },
  storm: { rounds: quick ? 2 : 5, callers: 10_000 },
  fleet: { processes: 8, callersPerProcess: 1_000, rounds: quick ? 1 : 3 }
} as const

const progress = (message: string) => Effect.sync(() => process.stderr.write(`[bench] ${message}\n`))

const section = <A, E, R>(name: string, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    yield* progress(`${name}…`)
    const start = performance.now()
    const result = yield* effect
    yield* progress(`${name} done in ${((performance.now() - start) / 1000).toFixed(1)} s`)
    return result
  })

const program = Effect.gen(function*() {
  const startedAt = new Date()
  const loadBefore = Os.loadavg()
  const bundled = yield* Control.bundle
  const server = yield* Control.start(bundled)
  yield* progress(`fake Dropbox Sign at ${server.url} (pid ${server.pid})`)
  const plain = yield* Control.startPlain(bundled)
  yield* progress(`plain fixed-answer server at ${plain.url} (pid ${plain.pid})`)

  const credentials = { clientId: defaultCredentials.clientId, clientSecret: defaultCredentials.clientSecret }
  const plainRoundTrips = yield* section(
    "1a. round trips, plain server",
    RoundTrips.run(
      { ...credentials, url: plain.url, refreshToken: "plain-refresh-token" },
      RoundTrips.candidates,
      settings.roundTrips
    )
  )
  const { refresh_token: refreshToken } = yield* grant(server)
  const fakeRoundTrips = yield* section(
    "1b. round trips, fake",
    RoundTrips.run(
      { ...credentials, url: server.url, refreshToken },
      RoundTrips.fakeCandidates,
      settings.fakeRoundTrips
    )
  )
  const roundTrips = { plain: plainRoundTrips, fake: fakeRoundTrips }
  const hotPath = yield* section("2. hot path", HotPath.run(server, settings.hotPath))
  const storm = yield* section("3. refresh storm", Storm.run(server, settings.storm))
  const fleet = yield* section("4. fleet storm", Fleet.run(bundled, server, settings.fleet))
  const memory = yield* section("5. memory", Memory.run(bundled, server))

  const results: Report.Results = { roundTrips, hotPath, storm, fleet, memory }
  const targets = Report.targets(results)
  const output = {
    generatedAt: startedAt.toISOString(),
    durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
    quick,
    machine: { ...machine(), loadAverageBefore: loadBefore, loadAverageAfter: Os.loadavg() },
    versions: versions(),
    settings,
    notes: [
      "The servers run in separate processes; CPU time is the benchmark process's only (process.cpuUsage).",
      "Each figure is the median of the rounds; candidates run back to back within each round, after a warm-up.",
      "Each ratio is the median of per-round ratios, with their min and max; load averages are sampled per round."
    ],
    results,
    ratios: Report.ratios(results),
    targets,
    allTargetsMet: targets.every((t) => t.met !== false)
  }
  const file = Path.join(Control.benchDir, "results.json")
  Fs.writeFileSync(file, `${JSON.stringify(output, null, 2)}\n`)
  yield* Effect.sync(() => {
    process.stdout.write(`\n${Report.format(results)}\n\nWrote ${Path.relative(process.cwd(), file)}\n`)
  })
})

program.pipe(Effect.scoped, NodeRuntime.runMain)
