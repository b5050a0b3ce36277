/**
 * Where the time goes: runs one scenario under V8's CPU profiler and prints self time by where the code lives (the
 * Effect runtime, `@effect/platform`, undici, this library, Node, GC) and the functions with the most self time.
 *
 *   cd test && node --expose-gc --conditions=source --import tsx bench/profile.ts <scenario>
 *
 * Scenarios: `lean` (oauthTokenRefresh over the lean undici transport, plain server), `generic` (over
 * `NodeHttpClient.layerUndici`), `raw` (raw `undici.request`, for comparison), `hot` (`accessToken` on a cached token),
 * `storm` (10,000 callers at expiry, forked from one parent), `storm-independent` (as independent fibers).
 */
import * as Inspector from "node:inspector/promises"

import { OAuthApi, OAuthConfig, OAuthSchema } from "@dropbox-sign-effect/oauth"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Context, DateTime, Effect, Layer, Redacted, Runtime } from "effect"
import * as Undici from "undici"

import * as Control from "./control.js"
import { authorizedManager } from "./hotPath.js"
import { defaultCredentials } from "./setup.js"
import { shiftedClock } from "./storm.js"

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
}

interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const category = (frame: ProfileNode["callFrame"]): string => {
  const { functionName, url } = frame
  if (functionName === "(garbage collector)") return "GC"
  if (functionName === "(idle)") return "idle"
  if (functionName === "(program)") return "V8 / native"
  if (url.includes("/packages/oauth/src/")) return "this library"
  if (url.includes("@effect/platform")) return "@effect/platform"
  if (url.includes("/effect/")) return "Effect runtime"
  if (url.includes("undici")) return "undici"
  if (url.startsWith("node:")) return "Node"
  return url === "" ? "V8 / native" : "other"
}

const summarize = (profile: Profile, top: number) => {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const self = new Map<number, number>()
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
  const busy = [...self].filter(([id]) => byId.get(id)?.callFrame.functionName !== "(idle)")
  const total = busy.reduce((sum, [, micros]) => sum + micros, 0)
  const categories = new Map<string, number>()
  const functions = new Map<string, number>()
  for (const [id, micros] of busy) {
    const frame = byId.get(id)!.callFrame
    categories.set(category(frame), (categories.get(category(frame)) ?? 0) + micros)
    const name = `${frame.functionName || "(anonymous)"} ${
      frame.url.replace(/.*node_modules\//, "")
    }:${frame.lineNumber}`
    functions.set(name, (functions.get(name) ?? 0) + micros)
  }
  const percent = (micros: number) => `${(100 * micros / total).toFixed(1).padStart(5)}%`
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1])
  return [
    `busy CPU time: ${(total / 1000).toFixed(0)} ms`,
    ...sorted(categories).map(([name, micros]) => `${percent(micros)}  ${name}`),
    "",
    `top ${top} functions by self time:`,
    ...sorted(functions).slice(0, top).map(([name, micros]) => `${percent(micros)}  ${name}`)
  ].join("\n")
}

const profiled = <A, E, R>(label: string, operations: number, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const session = new Inspector.Session()
    session.connect()
    yield* Effect.promise(() => session.post("Profiler.enable"))
    yield* Effect.promise(() => session.post("Profiler.setSamplingInterval", { interval: 100 }))
    yield* Effect.promise(() => session.post("Profiler.start"))
    const cpu = process.cpuUsage()
    yield* effect
    const used = process.cpuUsage(cpu)
    const { profile } = yield* Effect.promise(() => session.post("Profiler.stop"))
    session.disconnect()
    const micros = (used.user + used.system) / operations
    process.stdout.write(
      `${label}: ${operations} operations, ${micros.toFixed(1)} µs CPU each (profiler on)\n${
        summarize(profile as Profile, 15)
      }\n`
    )
  })

const scenario = process.argv[2] ?? "lean"

const program = Effect.gen(function*() {
  const bundled = yield* Control.bundle
  const plain = yield* Control.startPlain(bundled)
  const fake = yield* Control.start(bundled)
  const config = OAuthConfig.layer({
    clientId: defaultCredentials.clientId,
    clientSecret: Redacted.make(defaultCredentials.clientSecret),
    oauthUrl: plain.url
  }).pipe(Layer.orDie)
  const request = new OAuthSchema.OAuthTokenRefreshRequest({
    refreshToken: Redacted.make("profile-refresh-token"),
    clientId: defaultCredentials.clientId,
    clientSecret: Redacted.make(defaultCredentials.clientSecret)
  })
  const loop = (n: number, effect: Effect.Effect<unknown, unknown>) =>
    Effect.orDie(Effect.gen(function*() {
      for (let i = 0; i < n; i++) yield* effect
    }))
  const n = 5_000
  switch (scenario) {
    case "lean":
    case "generic": {
      const layer = scenario === "lean" ?
        OAuthApi.layerUndici().pipe(Layer.provide(config)) :
        OAuthApi.layer.pipe(Layer.provide(config), Layer.provide(NodeHttpClient.layerUndici))
      const api = Context.get(yield* Layer.build(layer), OAuthApi.OAuthApi)
      yield* loop(1_000, api.oauthTokenRefresh(request))
      return yield* profiled(scenario, n, loop(n, api.oauthTokenRefresh(request)))
    }
    case "raw": {
      const once = Effect.promise(async () => {
        const response = await Undici.request(`${plain.url}/oauth/token?refresh`, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json" },
          body: JSON.stringify({ grant_type: "refresh_token", refresh_token: "profile-refresh-token" })
        })
        return response.body.json()
      })
      yield* loop(1_000, once)
      return yield* profiled("raw", n, loop(n, once))
    }
    case "hot": {
      const manager = yield* authorizedManager(fake)
      yield* loop(100_000, manager.accessToken())
      return yield* profiled("hot", 1_000_000, loop(1_000_000, manager.accessToken()))
    }
    case "storm":
    case "storm-independent": {
      const manager = yield* authorizedManager(fake)
      const callers = 10_000
      let offset = 0
      const storms = Effect.gen(function*() {
        for (let round = 0; round < 5; round++) {
          const token = yield* Effect.orDie(Effect.withClock(manager.token(), shiftedClock(offset)))
          offset = DateTime.toEpochMillis(token.expiresAt) - Date.now() + 1
          const clock = shiftedClock(offset)
          const read = Effect.orDie(manager.accessToken())
          yield* (scenario === "storm" ?
            Effect.forEach(Array.from({ length: callers }), () => read, { concurrency: "unbounded", discard: true }) :
            Effect.flatMap(Effect.runtime<never>(), (runtime) =>
              Effect.async<void>((resume) => {
                let remaining = callers
                for (let i = 0; i < callers; i++) {
                  Runtime.runFork(runtime)(read).addObserver(() => {
                    if (--remaining === 0) resume(Effect.void)
                  })
                }
              }))).pipe(Effect.withClock(clock))
        }
      })
      return yield* profiled(scenario, 5 * callers, storms)
    }
    default:
      return yield* Effect.dieMessage(`unknown scenario ${scenario}`)
  }
})

program.pipe(Effect.scoped, NodeRuntime.runMain)
