/**
 * Turns the results into targets, a printed table with ratios (ours / peer), and `results.json`.
 */
import type * as Fleet from "./fleet.js"
import * as HotPath from "./hotPath.js"
import type * as Memory from "./memory.js"
import type * as RoundTrips from "./roundTrips.js"
import type * as Storm from "./storm.js"

export interface Results {
  readonly roundTrips: RoundTrips.Results
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

const ratio = (a: number, b: number) => a / b
const fixed = (n: number, digits = 2) => Number.isFinite(n) ? n.toFixed(digits) : "n/a"
const MiB = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`

export const ratios = (results: Results) => {
  const rt = results.roundTrips
  const perMode = (mode: RoundTrips.Mode) => ({
    undiciVsSdk: ratio(rt[mode]["ours (undici)"].rate, rt[mode]["@dropbox/sign"].rate),
    undiciVsRaw: ratio(rt[mode]["ours (undici)"].rate, rt[mode]["raw undici"].rate),
    fetchVsSdk: ratio(rt[mode]["ours (fetch)"].rate, rt[mode]["@dropbox/sign"].rate),
    undiciVsFetch: ratio(rt[mode]["ours (undici)"].rate, rt[mode]["ours (fetch)"].rate)
  })
  return {
    roundTrips: { sequential: perMode("sequential"), concurrent: perMode("concurrent") },
    hotPath: {
      vsGoogleAuthLibrary: ratio(
        results.hotPath.ours.opsPerSecond,
        results.hotPath["google-auth-library"].opsPerSecond
      ),
      vsSimpleOauth2: ratio(results.hotPath.ours.opsPerSecond, results.hotPath["simple-oauth2"].opsPerSecond)
    },
    storm: {
      timeVsGoogleAuthLibrary: ratio(
        results.storm.ours.medianMillis,
        results.storm["google-auth-library"].medianMillis
      )
    }
  }
}

export const targets = (results: Results): ReadonlyArray<Target> => {
  const r = ratios(results)
  const modes = ["sequential", "concurrent"] as const
  const list: Array<Target> = []
  for (const mode of modes) {
    list.push({
      name: `round trips (${mode}): ours over undici vs @dropbox/sign`,
      target: ">= 1.60x req/s",
      actual: `${fixed(r.roundTrips[mode].undiciVsSdk)}x`,
      met: r.roundTrips[mode].undiciVsSdk >= 1.6
    })
    list.push({
      name: `round trips (${mode}): ours over undici vs raw undici`,
      target: ">= 0.80x req/s (within 20%)",
      actual: `${fixed(r.roundTrips[mode].undiciVsRaw)}x`,
      met: r.roundTrips[mode].undiciVsRaw >= 0.8
    })
  }
  list.push({
    name: "hot path: ours vs google-auth-library",
    target: ">= 1.50x ops/s",
    actual: `${fixed(r.hotPath.vsGoogleAuthLibrary)}x`,
    met: r.hotPath.vsGoogleAuthLibrary >= 1.5 && results.hotPath.tokenRequestsDuringRun === 0
  })
  const storm = results.storm.ours
  list.push({
    name: "refresh storm (in-process): refresh requests per expiry",
    target: "exactly 1 in every round",
    actual: storm.refreshRequests.join(", "),
    met: storm.refreshRequests.every((n) => n === 1) && storm.consistent
  })
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

export const format = (results: Results): string => {
  const out: Array<string> = []
  const rt = results.roundTrips
  out.push("1. Token endpoint round trips (oauthTokenRefresh over loopback; ratio = ours over undici / this)")
  for (const mode of ["sequential", "concurrent"] as const) {
    const ours = rt[mode]["ours (undici)"].rate
    out.push(
      table(
        [mode, "req/s", "p50 ms", "p99 ms", "CPU µs/req", "ratio"],
        Object.entries(rt[mode]).map(([name, s]) => [
          name,
          fixed(s.rate, 0),
          fixed(s.p50Millis),
          fixed(s.p99Millis),
          fixed(s.cpuMicrosPerOp, 0),
          name === "ours (undici)" ? "" : `${fixed(ours / s.rate)}x`
        ])
      )
    )
  }
  const hot = results.hotPath
  out.push(
    "",
    `2. Hot path: read a valid cached token (ratio = ours / this; token requests meanwhile: ${hot.tokenRequestsDuringRun})`
  )
  out.push(
    table(
      ["candidate", "ops/s", "ratio"],
      HotPath.candidates.map((name) => [
        name,
        fixed(hot[name].opsPerSecond, 0),
        name === "ours" ? "" : `${fixed(hot.ours.opsPerSecond / hot[name].opsPerSecond)}x`
      ])
    )
  )
  out.push("", `3. Refresh storm: concurrent token reads at expiry`)
  out.push(
    table(
      ["candidate", "refresh requests per round", "median ms until all have a token", "same new token"],
      [
        ...(["ours", "google-auth-library"] as const).map((name) => {
          const s = results.storm[name]
          return [name, s.refreshRequests.join(", "), fixed(s.medianMillis, 1), s.consistent ? "yes" : "NO"]
        }),
        ["simple-oauth2", "n/a (no refresh on read)", "n/a", "n/a"],
        ["floor: fibers awaiting a Deferred", "-", fixed(results.storm.fiberFloorMedianMillis, 1), "-"]
      ]
    )
  )
  const fleet = results.fleet
  out.push("", "4. Fleet storm (PostgreSQL)")
  out.push(
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
      )
  )
  const memory = results.memory
  out.push("", `5. Memory (own process, after gc): ${memory.reads} reads + ${memory.refreshes} refreshes`)
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
    )
  )
  out.push("", "Targets")
  out.push(
    table(
      ["target", "wanted", "actual", "met"],
      targets(results).map((t) => [t.name, t.target, t.actual, t.met === "skipped" ? "skipped" : t.met ? "yes" : "NO"])
    )
  )
  return out.join("\n")
}
