/**
 * Measuring: load drivers for promise-based and Effect-based clients (the same loop either way), summaries,
 * interleaved rounds so that drift (JIT, GC, the server's growing state, other work on the machine) falls on every
 * candidate alike, and ratios taken round by round: the median of per-round ratios with their spread, so that one
 * noisy round cannot move a verdict.
 */
import * as Os from "node:os"

import { Effect } from "effect"

/** One measured run: wall time, this process's CPU time, and each operation's latency (when recorded). */
export interface Sample {
  readonly operations: number
  readonly wallMillis: number
  readonly cpuMicros: number
  readonly latencies: Float64Array
}

const begin = () => ({ wall: performance.now(), cpu: process.cpuUsage() })

const end = (start: ReturnType<typeof begin>, operations: number, latencies: Float64Array): Sample => {
  const wallMillis = performance.now() - start.wall
  const cpu = process.cpuUsage(start.cpu)
  return { operations, wallMillis, cpuMicros: cpu.user + cpu.system, latencies }
}

/** `requests` calls of `op`, `concurrency` at a time, each timed. */
export const promiseLoad = (
  op: () => Promise<unknown>,
  requests: number,
  concurrency: number
): Effect.Effect<Sample> =>
  Effect.promise(async () => {
    const latencies = new Float64Array(requests)
    let next = 0
    const worker = async () => {
      for (let i = next++; i < requests; i = next++) {
        const t = performance.now()
        await op()
        latencies[i] = performance.now() - t
      }
    }
    const start = begin()
    await Promise.all(Array.from({ length: concurrency }, worker))
    return end(start, requests, latencies)
  })

/** The same loop as `promiseLoad`, as fibers. */
export const effectLoad = <E>(
  op: Effect.Effect<unknown, E>,
  requests: number,
  concurrency: number
): Effect.Effect<Sample, E> =>
  Effect.suspend(() => {
    const latencies = new Float64Array(requests)
    let next = 0
    const worker = Effect.gen(function*() {
      for (let i = next++; i < requests; i = next++) {
        const t = performance.now()
        yield* op
        latencies[i] = performance.now() - t
      }
    })
    const start = begin()
    return Effect.map(
      Effect.all(Array.from({ length: concurrency }, () => worker), { concurrency: "unbounded", discard: true }),
      () => end(start, requests, latencies)
    )
  })

/** Times a whole batch of `operations` (no per-operation latency). */
export const timed = <A, E, R>(operations: number, batch: Effect.Effect<A, E, R>): Effect.Effect<Sample, E, R> =>
  Effect.suspend(() => {
    const start = begin()
    return Effect.map(batch, () => end(start, operations, new Float64Array(0)))
  })

export const percentile = (sorted: Float64Array, p: number): number =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]

export const median = (values: ReadonlyArray<number>): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export interface Summary {
  /** Operations per second. */
  readonly rate: number
  readonly p50Millis: number
  readonly p99Millis: number
  readonly cpuMicrosPerOp: number
}

export const summarize = (sample: Sample): Summary => {
  const sorted = Float64Array.from(sample.latencies).sort()
  return {
    rate: sample.operations / (sample.wallMillis / 1000),
    p50Millis: percentile(sorted, 0.5),
    p99Millis: percentile(sorted, 0.99),
    cpuMicrosPerOp: sample.cpuMicros / sample.operations
  }
}

/** The median of each field across rounds. */
export const medianSummary = (rounds: ReadonlyArray<Summary>): Summary & { readonly rounds: number } => ({
  rate: median(rounds.map((r) => r.rate)),
  p50Millis: median(rounds.map((r) => r.p50Millis)),
  p99Millis: median(rounds.map((r) => r.p99Millis)),
  cpuMicrosPerOp: median(rounds.map((r) => r.cpuMicrosPerOp)),
  rounds: rounds.length
})

const collectGarbage = Effect.sync(() => globalThis.gc?.())

/** The one-minute load average now: printed beside every figure, because this machine is shared. */
export const loadAverage = (): number => Os.loadavg()[0]

/** A ratio over rounds: the median of the per-round ratios, and their smallest and largest. */
export interface Ratio {
  readonly median: number
  readonly min: number
  readonly max: number
}

/** `f(round)` for every round both sides ran, summarised. */
export const ratioOverRounds = (rounds: number, f: (round: number) => number): Ratio => {
  const values = Array.from({ length: rounds }, (_, round) => f(round)).filter(Number.isFinite)
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) }
}

/** Load averages seen over a section: its smallest and largest. */
export interface LoadRange {
  readonly min: number
  readonly max: number
}

export const loadRange = (values: ReadonlyArray<number>): LoadRange => ({
  min: Math.min(...values),
  max: Math.max(...values)
})

export interface Candidate<E, R> {
  readonly name: string
  /** One measured run. */
  readonly run: Effect.Effect<Sample, E, R>
  /** A shorter run to warm up with; `run` if absent. */
  readonly warmup?: Effect.Effect<unknown, E, R> | undefined
}

/** Each candidate's summaries, one per round (index = round), and the load average after each round. */
export interface Interleaved {
  readonly byName: Record<string, ReadonlyArray<Summary>>
  readonly load: ReadonlyArray<number>
}

/**
 * Warms every candidate up, then runs `rounds` rounds; each round runs every candidate once, back to back, in an
 * order rotated from round to round, each after a full GC.
 */
export const interleave = <E, R>(
  candidates: ReadonlyArray<Candidate<E, R>>,
  rounds: number
): Effect.Effect<Interleaved, E, R> =>
  Effect.gen(function*() {
    for (const candidate of candidates) yield* candidate.warmup ?? candidate.run
    const byName: Record<string, Array<Summary>> = Object.fromEntries(candidates.map((c) => [c.name, []]))
    const load: Array<number> = []
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < candidates.length; k++) {
        const candidate = candidates[(round + k) % candidates.length]
        yield* collectGarbage
        byName[candidate.name].push(summarize(yield* candidate.run))
      }
      load.push(loadAverage())
    }
    return { byName, load }
  })
