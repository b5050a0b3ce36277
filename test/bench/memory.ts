/**
 * 5. Memory: runs `memoryChild.ts` in a process of its own with `--expose-gc` and judges its growth.
 */
import { Duration, Effect, Schema } from "effect"

import { type Bundle, type FakeServer, runChild } from "./control.js"

const MiB = 2 ** 20

/**
 * What counts as flat: growth from start to end within these bounds. They cover the noise seen here between
 * snapshots of a steady run (heap about ±0.7 MiB, RSS about ±30 MiB: the allocator keeps and returns pages at its
 * own pace), and are far below what a leak of 200 bytes per refresh or 2 bytes per read would add over the run.
 */
export const tolerance = {
  heapUsedBytes: 2 * MiB,
  rssBytes: 32 * MiB
} as const

const accounts = 4

const Snapshot = Schema.Struct({ heapUsed: Schema.Number, rss: Schema.Number, external: Schema.Number })
const Report = Schema.Struct({
  reads: Schema.Number,
  refreshes: Schema.Number,
  start: Snapshot,
  series: Schema.Array(Snapshot),
  end: Snapshot
})

export interface Results extends Schema.Schema.Type<typeof Report> {
  readonly heapGrowthBytes: number
  readonly rssGrowthBytes: number
  readonly tolerance: typeof tolerance
  readonly flat: boolean
}

export const run = (bundled: Bundle, server: FakeServer): Effect.Effect<Results, Error> =>
  Effect.gen(function*() {
    const codes = yield* Effect.forEach(Array.from({ length: accounts }), () => server.issueCode({ state: "memory" }))
    const message = yield* runChild(bundled, "memoryChild", {
      env: { BENCH_URL: server.url, BENCH_CODES: codes.join(",") },
      execArgv: ["--expose-gc"],
      // Minutes: 11,000 refreshes on a shared machine under load.
      timeout: Duration.minutes(10)
    })
    const report = yield* Effect.orDie(Schema.decodeUnknown(Report)(message))
    const heapGrowthBytes = report.end.heapUsed - report.start.heapUsed
    const rssGrowthBytes = report.end.rss - report.start.rss
    return {
      ...report,
      heapGrowthBytes,
      rssGrowthBytes,
      tolerance,
      flat: heapGrowthBytes <= tolerance.heapUsedBytes && rssGrowthBytes <= tolerance.rssBytes
    }
  }).pipe(Effect.scoped)
