/**
 * Turns the results into ratios, targets and printed tables. Every ratio is the median of per-round ratios (each round
 * ran every candidate back to back) with its spread, min–max; every table shows the load average over its rounds.
 */
import type * as Fleet from "./fleet.js"
import * as HotPath from "./hotPath.js"
import { type Interleaved, loadRange, median, type Ratio, ratioOverRounds, type Summary } from "./measure.js"
import type * as Memory from "./memory.js"
import * as RoundTrips from "./roundTrips.js"
import * as Storm from "./storm.js"

export interface Results {
  readonly roundTrips: { readonly plain: RoundTrips.Results; readonly fake: RoundTrips.Results }
  readonly hotPath: HotPath.Results
  readonly storm: Storm.Results
  readonly fleet: Fleet.Results
  readonly memory: Memory.Results
}

export interface Target {
  readonly name: string
  readonly target: string
  readonly actual: string
  readonly met: boolean | "skipped"
}

const fixed = (n: number, digits = 2) => Number.isFinite(n) ? n.toFixed(digits) : "n/a"
const MiB = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`
const showRatio = (r: Ratio) => `${fixed(r.median)}x [${fixed(r.min)}–${fixed(r.max)}]`
const showLoad = (values: ReadonlyArray<number>) => {
  const range = loadRange(values)
  return `load ${fixed(range.min, 1)}–${fixed(range.max, 1)}`
}

/** `a / b` of one field, round by round. */
const perRound = (
  run: Interleaved,
  a: string,
  b: string,
  field: (s: Summary) => number
): Ratio =>
  ratioOverRounds(
    Math.min(run.byName[a]?.length ?? 0, run.byName[b]?.length ?? 0),
    (round) => field(run.byName[a][round]) / field(run.byName[b][round])
  )

const rate = (s: Summary) => s.rate
const cpu = (s: Summary) => s.cpuMicrosPerOp

const medianOf = (run: Interleaved, name: string, field: (s: Summary) => number) =>
  median((run.byName[name] ?? []).map(field))

/** The storm's cost above its floor, round by round: (ours − floor) / floor. */
const aboveFloor = (shape: Storm.Results["shapes"][Storm.Shape]): Ratio =>
  ratioOverRounds(
    Math.min(shape.ours.length, shape.floor.length),
    (round) => (shape.ours[round].millis - shape.floor[round]) / shape.floor[round]
  )

export const ratios = (results: Results) => {
  const perMode = (section: Interleaved) => ({
    leanVsSdk: perRound(section, "ours: lean undici", "@dropbox/sign", rate),
    leanVsRawUndici: perRound(section, "ours: lean undici", "raw undici.request", rate),
    leanCpuVsRawUndici: perRound(section, "ours: lean undici", "raw undici.request", cpu),
    genericVsSdk: perRound(section, "ours: HttpClient (undici)", "@dropbox/sign", rate),
    genericVsRawUndici: perRound(section, "ours: HttpClient (undici)", "raw undici.request", rate),
    leanTracedCpuVsLean: perRound(section, "ours: lean undici + tracer", "ours: lean undici", cpu),
    genericTracedCpuVsGeneric: perRound(section, "ours: HttpClient (undici) + tracer", "ours: HttpClient (undici)", cpu)
  })
  const roundTrips = (run: RoundTrips.Results) => ({
    sequential: perMode(run.sequential),
    concurrent: perMode(run.concurrent)
  })
  return {
    roundTrips: { plain: roundTrips(results.roundTrips.plain), fake: roundTrips(results.roundTrips.fake) },
    hotPath: {
      vsSyncFloor: perRound(results.hotPath, "ours", "floor: yield* Effect.sync", rate),
      vsSucceedFloor: perRound(results.hotPath, "ours", "floor: yield* Effect.succeed", rate),
      vsGoogleAuthLibrary: perRound(results.hotPath, "ours", "google-auth-library", rate)
    },
    storm: Object.fromEntries(Storm.shapes.map((shape) => [shape, aboveFloor(results.storm.shapes[shape])])) as Record<
      Storm.Shape,
      Ratio
    >
  }
}

export const targets = (results: Results): ReadonlyArray<Target> => {
  const r = ratios(results)
  const list: Array<Target> = []
  for (const mode of ["sequential", "concurrent"] as const) {
    const plain = r.roundTrips.plain[mode]
    list.push(
      {
        name: `round trips, plain server (${mode}): lean undici vs @dropbox/sign`,
        target: ">= 1.60x req/s",
        actual: showRatio(plain.leanVsSdk),
        met: plain.leanVsSdk.median >= 1.6
      },
      {
        name: `round trips, plain server (${mode}): lean undici vs raw undici`,
        target: ">= 0.80x req/s",
        actual: showRatio(plain.leanVsRawUndici),
        met: plain.leanVsRawUndici.median >= 0.8
      },
      {
        name: `round trips, plain server (${mode}): lean undici CPU per request vs raw undici`,
        target: "<= 1.30x µs",
        actual: showRatio(plain.leanCpuVsRawUndici),
        met: plain.leanCpuVsRawUndici.median <= 1.3
      },
      {
        name: `round trips, plain server (${mode}): generic HttpClient (undici) vs @dropbox/sign`,
        target: ">= 1.00x req/s",
        actual: showRatio(plain.genericVsSdk),
        met: plain.genericVsSdk.median >= 1
      }
    )
  }
  list.push({
    name: "hot path: accessToken vs the yield* Effect.sync floor",
    target: ">= 0.60x ops/s",
    actual: showRatio(r.hotPath.vsSyncFloor),
    met: r.hotPath.vsSyncFloor.median >= 0.6 && results.hotPath.tokenRequestsDuringRun === 0
  })
  for (const shape of Storm.shapes) {
    const rounds = results.storm.shapes[shape].ours
    list.push(
      {
        name: `refresh storm (${shape}): time above the Effect floor`,
        target: "<= 25% of the floor",
        actual: `${fixed(100 * r.storm[shape].median, 0)}% [${fixed(100 * r.storm[shape].min, 0)}–${
          fixed(100 * r.storm[shape].max, 0)
        }%]`,
        met: r.storm[shape].median <= 0.25
      },
      {
        name: `refresh storm (${shape}): refresh requests per expiry`,
        target: "exactly 1 in every round",
        actual: rounds.map((round) => round.refreshes).join(", "),
        met: rounds.every((round) => round.refreshes === 1 && round.consistent)
      }
    )
  }
  const fleet = results.fleet
  list.push(
    fleet._tag !== "Ran" ?
      {
        name: "fleet storm (PostgreSQL): refresh requests per expiry",
        target: "exactly 1",
        actual: `${fleet._tag === "Skipped" ? "skipped" : "FAILED"}: ${fleet.reason}`,
        met: fleet._tag === "Skipped" ? "skipped" : false
      } :
      {
        name: `fleet storm (PostgreSQL, ${fleet.processes} processes): refresh requests per expiry`,
        target: "exactly 1 in every round",
        actual: fleet.refreshRequests.join(", "),
        met: fleet.refreshRequests.every((n) => n === 1) && fleet.consistent
      }
  )
  const memory = results.memory
  list.push({
    name: `memory after ${memory.reads.toLocaleString("en")} reads + ${
      memory.refreshes.toLocaleString("en")
    } refreshes`,
    target: `flat: heap growth <= ${MiB(memory.tolerance.heapUsedBytes)}, RSS growth <= ${
      MiB(memory.tolerance.rssBytes)
    }`,
    actual: `heap ${MiB(memory.heapGrowthBytes)}, RSS ${MiB(memory.rssGrowthBytes)}`,
    met: memory.flat
  })
  return list
}

const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) => i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])).join("  ")
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n")
}

const roundTripTables = (title: string, run: RoundTrips.Results): Array<string> => {
  const out = [title]
  for (const mode of ["sequential", "concurrent"] as const) {
    const section = run[mode]
    const names = RoundTrips.candidates.filter((name) => section.byName[name] !== undefined)
    out.push(
      `${mode} (${showLoad(section.load)}; ratios: median of per-round ratios [min–max])`,
      table(
        [mode, "req/s", "p50 ms", "p99 ms", "CPU µs/req", "req/s ÷ SDK", "req/s ÷ raw undici", "CPU ÷ raw undici"],
        names.map((name) => [
          name,
          fixed(medianOf(section, name, rate), 0),
          fixed(medianOf(section, name, (s) => s.p50Millis)),
          fixed(medianOf(section, name, (s) => s.p99Millis)),
          fixed(medianOf(section, name, cpu), 0),
          name === "@dropbox/sign" ? "" : showRatio(perRound(section, name, "@dropbox/sign", rate)),
          name === "raw undici.request" ? "" : showRatio(perRound(section, name, "raw undici.request", rate)),
          name === "raw undici.request" ? "" : showRatio(perRound(section, name, "raw undici.request", cpu))
        ])
      ),
      ""
    )
  }
  return out
}

export const format = (results: Results): string => {
  const out: Array<string> = []
  out.push(
    ...roundTripTables(
      "1a. Token round trips against the plain fixed-answer server (oauthTokenRefresh over loopback)",
      results.roundTrips.plain
    ),
    ...roundTripTables(
      "1b. Token round trips against the fake Dropbox Sign (~0.5 ms of server work per request)",
      results.roundTrips.fake
    )
  )
  const hot = results.hotPath
  out.push(
    `2. Hot path: read a valid cached token (${
      showLoad(hot.load)
    }; token requests meanwhile: ${hot.tokenRequestsDuringRun})`,
    table(
      ["candidate", "ops/s", "ours ÷ this"],
      HotPath.candidates.map((name) => [
        name,
        fixed(medianOf(hot, name, rate), 0),
        name === "ours" ? "" : showRatio(perRound(hot, "ours", name, rate))
      ])
    ),
    ""
  )
  const storm = results.storm
  const millis = (rounds: ReadonlyArray<Storm.StormRound>) => median(rounds.map((round) => round.millis))
  out.push(
    `3. Refresh storm: concurrent token reads at expiry (${showLoad(storm.load)})`,
    table(
      ["candidate", "refresh requests per round", "median ms until all have a token", "above the floor", "same token"],
      [
        ...Storm.shapes.flatMap((shape) => {
          const { floor, ours } = storm.shapes[shape]
          const above = aboveFloor(storm.shapes[shape])
          return [
            [
              `ours, ${shape}`,
              ours.map((round) => round.refreshes).join(", "),
              fixed(millis(ours), 1),
              `${fixed(100 * above.median, 0)}% [${fixed(100 * above.min, 0)}–${fixed(100 * above.max, 0)}%]`,
              ours.every((round) => round.consistent) ? "yes" : "NO"
            ],
            [`floor, ${shape}`, "-", fixed(median(floor), 1), "", "-"]
          ]
        }),
        [
          "google-auth-library (promises)",
          storm["google-auth-library"].map((round) => round.refreshes).join(", "),
          fixed(millis(storm["google-auth-library"]), 1),
          "",
          storm["google-auth-library"].every((round) => round.consistent) ? "yes" : "NO"
        ]
      ]
    ),
    ""
  )
  const fleet = results.fleet
  out.push(
    "4. Fleet storm (PostgreSQL)",
    fleet._tag !== "Ran" ?
      `${fleet._tag === "Skipped" ? "skipped" : "FAILED"}: ${fleet.reason}` :
      table(
        ["processes", "callers each", "refresh requests per expiry", "median ms", "same new token"],
        [[
          String(fleet.processes),
          String(fleet.callersPerProcess),
          fleet.refreshRequests.join(", "),
          fixed(fleet.medianMillis, 1),
          fleet.consistent ? "yes" : "NO"
        ]]
      ),
    ""
  )
  const memory = results.memory
  out.push(`5. Memory (own process, after gc): ${memory.reads} reads + ${memory.refreshes} refreshes`)
  out.push(
    table(
      ["", "start", "min .. max after each block", "end", "growth", "tolerance"],
      (["heapUsed", "rss"] as const).map((key) => {
        const values = memory.series.map((s) => s[key])
        return [
          key === "rss" ? "RSS" : key,
          MiB(memory.start[key]),
          `${MiB(Math.min(...values))} .. ${MiB(Math.max(...values))}`,
          MiB(memory.end[key]),
          MiB(key === "rss" ? memory.rssGrowthBytes : memory.heapGrowthBytes),
          MiB(key === "rss" ? memory.tolerance.rssBytes : memory.tolerance.heapUsedBytes)
        ]
      })
    ),
    "",
    "Targets",
    table(
      ["target", "wanted", "actual", "met"],
      targets(results).map((t) => [t.name, t.target, t.actual, t.met === "skipped" ? "skipped" : t.met ? "yes" : "NO"])
    )
  )
  return out.join("\n")
}
