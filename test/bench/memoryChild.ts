/**
 * 5. Memory, in a process of its own (started by `memory.ts` with `--expose-gc`): heap and RSS after 1,000,000 hot-path
 * reads and 10,000 refresh cycles, against the start. Reports through the IPC channel.
 *
 * Environment: `BENCH_URL` (the fake), `BENCH_CODES` (comma-separated authorization codes, one per account).
 */
import { AccountId, TokenManager, TokenStore } from "@dropbox-sign-effect/oauth"
import { NodeHttpClient } from "@effect/platform-node"
import { Config, Context, Effect, Layer, Redacted } from "effect"

import { managerLayer } from "./setup.js"

export interface Snapshot {
  readonly heapUsed: number
  readonly rss: number
  readonly external: number
}

export interface Report {
  readonly reads: number
  readonly refreshes: number
  readonly start: Snapshot
  /** After each block of reads and refreshes. */
  readonly series: ReadonlyArray<Snapshot>
  readonly end: Snapshot
}

const blocks = 10
const readsPerBlock = 100_000
const refreshesPerBlock = 1_000

const snapshot = Effect.sync((): Snapshot => {
  const gc = globalThis.gc
  if (gc === undefined) throw new Error("memory.ts needs --expose-gc")
  // Twice: the first pass may only queue finalization of what the second frees.
  gc()
  gc()
  const usage = process.memoryUsage()
  return { heapUsed: usage.heapUsed, rss: usage.rss, external: usage.external }
})

const program = Effect.gen(function*() {
  const url = yield* Config.string("BENCH_URL")
  const codes = (yield* Config.string("BENCH_CODES")).split(",")
  const context = yield* Layer.build(
    managerLayer(url).pipe(Layer.provide(TokenStore.layerMemory), Layer.provide(NodeHttpClient.layerUndici))
  )
  const manager = Context.get(context, TokenManager.TokenManager)
  const accounts = codes.map((_, i) => AccountId.make(`memory-${i}`))
  yield* Effect.forEach(
    codes,
    (code, i) => manager.authorize(accounts[i], { code: Redacted.make(code), state: "memory" }, "memory")
  )

  let sink = 0
  const reads = (n: number) =>
    Effect.gen(function*() {
      for (let i = 0; i < n; i++) {
        sink += Redacted.value(yield* manager.accessToken(accounts[i % accounts.length])).length
      }
    })
  // One forced refresh per account at a time, the accounts side by side.
  const refreshes = (n: number) =>
    Effect.forEach(
      accounts,
      (account) =>
        Effect.gen(function*() {
          for (let i = 0; i < n / accounts.length; i++) yield* manager.refresh(account)
        }),
      { concurrency: "unbounded", discard: true }
    )
  const block = Effect.zipRight(reads(readsPerBlock), refreshes(refreshesPerBlock))

  // Warm-up, one block: JIT, connection pool, lazily built structures.
  yield* block
  const start = yield* snapshot
  const series: Array<Snapshot> = []
  for (let i = 0; i < blocks; i++) {
    yield* block
    series.push(yield* snapshot)
  }
  if (sink === 0) return yield* Effect.dieMessage("no token was read")
  const report: Report = {
    reads: blocks * readsPerBlock,
    refreshes: blocks * refreshesPerBlock,
    start,
    series,
    end: series[series.length - 1]
  }
  return report
})

Effect.runPromise(Effect.scoped(program)).then(
  (report) => process.send?.(report, () => process.exit(0)),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  }
)
