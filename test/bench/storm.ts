/**
 * 3. Refresh storm: 10,000 concurrent token reads at expiry, counted by the fake's refresh counter, in two caller
 * shapes, each beside its Effect floor: the same number of fibers, in the same shape, awaiting one `Deferred`.
 *
 * Ours: the callers run on a live clock shifted past the stored token's expiry (the manager takes time from `Clock`),
 * so every caller of the storm sees the token expired however long the storm takes, and no round waits for a real
 * expiry. google-auth-library: credentials whose `expiry_date` has passed, refreshed against the fake's token endpoint
 * (`endpoints.oauth2TokenUrl`). Both refresh with real requests to the fake.
 */
import { AccountId, TokenManager, TokenStore } from "@dropbox-sign-effect/oauth"
import { NodeHttpClient } from "@effect/platform-node"
import { Clock, Context, DateTime, Deferred, Effect, Layer, Redacted, Runtime } from "effect"
import { OAuth2Client } from "google-auth-library"

import type { FakeServer } from "./control.js"
import { loadAverage } from "./measure.js"
import { grant, managerLayer } from "./setup.js"

export interface Options {
  readonly rounds: number
  readonly callers: number
}

/**
 * How the callers arrive. "forked from one parent": one fiber forks them all (`Effect.forEach`, unbounded).
 * "independent fibers": each starts as a fiber of its own from outside the runtime, as a server's request handlers do
 * (`Runtime.runFork` per caller), and the storm ends when the last of them has its token.
 */
export const shapes = ["forked from one parent", "independent fibers"] as const
export type Shape = typeof shapes[number]

export interface StormRound {
  /** Refresh requests the fake received. */
  readonly refreshes: number
  /** From the first call until every caller had a token. */
  readonly millis: number
  /** Every caller got the same, new token. */
  readonly consistent: boolean
}

export interface Results {
  /** Per shape, round by round: ours, and the floor (the same fibers awaiting one `Deferred`, no library). */
  readonly shapes: Record<Shape, { readonly ours: ReadonlyArray<StormRound>; readonly floor: ReadonlyArray<number> }>
  readonly "google-auth-library": ReadonlyArray<StormRound>
  readonly load: ReadonlyArray<number>
}

const live = Clock.make()

/** The live clock, `offsetMillis` ahead. */
export const shiftedClock = (offsetMillis: number): Clock.Clock => ({
  [Clock.ClockTypeId]: Clock.ClockTypeId,
  unsafeCurrentTimeMillis: () => live.unsafeCurrentTimeMillis() + offsetMillis,
  unsafeCurrentTimeNanos: () => live.unsafeCurrentTimeNanos() + BigInt(offsetMillis) * 1_000_000n,
  currentTimeMillis: Effect.sync(() => live.unsafeCurrentTimeMillis() + offsetMillis),
  currentTimeNanos: Effect.sync(() => live.unsafeCurrentTimeNanos() + BigInt(offsetMillis) * 1_000_000n),
  sleep: live.sleep
})

const countRefreshes = <A, E, R>(server: FakeServer, storm: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const before = (yield* server.counters).refreshRequests
    const start = performance.now()
    const value = yield* storm
    const millis = performance.now() - start
    const after = (yield* server.counters).refreshRequests
    return { value, millis, refreshes: after - before }
  })

const allEqual = (tokens: ReadonlyArray<string>, previous: string) =>
  tokens.length > 0 && tokens.every((token) => token === tokens[0]) && tokens[0] !== previous

/** `callers` runs of `effect` in `shape`; the values in order, once all are done. */
const storm = <A>(shape: Shape, callers: number, effect: Effect.Effect<A>): Effect.Effect<ReadonlyArray<A>> =>
  shape === "forked from one parent" ?
    Effect.forEach(Array.from({ length: callers }), () => effect, { concurrency: "unbounded" }) :
    Effect.flatMap(Effect.runtime<never>(), (runtime) =>
      Effect.async<ReadonlyArray<A>>((resume) => {
        const run = Runtime.runFork(runtime)
        const values = new Array<A>(callers)
        let remaining = callers
        for (let i = 0; i < callers; i++) {
          run(effect).addObserver((exit) => {
            if (exit._tag === "Failure") return resume(Effect.die(exit.cause))
            values[i] = exit.value
            if (--remaining === 0) resume(Effect.succeed(values))
          })
        }
      }))

export const run = (server: FakeServer, options: Options) =>
  Effect.gen(function*() {
    const app = yield* server.registerApp({})

    const context = yield* Layer.build(
      managerLayer(server.url, app).pipe(
        Layer.provide(TokenStore.layerMemory),
        Layer.provide(NodeHttpClient.layerUndici)
      )
    )
    const manager = Context.get(context, TokenManager.TokenManager)
    const code = yield* server.issueCode({ clientId: app.clientId, state: "storm" })
    yield* Effect.orDie(
      manager.authorize(AccountId.defaultAccount, { code: Redacted.make(code), state: "storm" }, "storm")
    )

    let offset = 0
    /** One storm of ours at the next expiry: a live clock shifted just past it, so every caller must wait. */
    const ours = (shape: Shape) =>
      Effect.gen(function*() {
        const token = yield* Effect.orDie(Effect.withClock(manager.token(), shiftedClock(offset)))
        offset = DateTime.toEpochMillis(token.expiresAt) - Date.now() + 1
        const { millis, refreshes, value } = yield* countRefreshes(
          server,
          storm(shape, options.callers, Effect.orDie(Effect.map(manager.accessToken(), Redacted.value))).pipe(
            Effect.withClock(shiftedClock(offset))
          )
        )
        return { refreshes, millis, consistent: allEqual(value, Redacted.value(token.accessToken)) }
      })
    /**
     * The same fan-out with nothing of ours: what starting and resuming this many fibers costs here. Each caller does
     * what ours does with the answer (`Redacted.value` through `orDie`), so that the difference is the library's alone.
     */
    const floor = (shape: Shape) =>
      Effect.gen(function*() {
        const done = yield* Deferred.make<Redacted.Redacted<string>>()
        const start = performance.now()
        yield* Effect.fork(Effect.zipRight(Effect.sleep("1 millis"), Deferred.succeed(done, Redacted.make("floor"))))
        yield* storm(shape, options.callers, Effect.orDie(Effect.map(Deferred.await(done), Redacted.value)))
        return performance.now() - start
      })

    // google-auth-library, against the same app: it shares one in-flight refresh per refresh token.
    const tokens = yield* grant(server, app)
    const google = new OAuth2Client({
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      endpoints: { oauth2TokenUrl: `${server.url}/oauth/token?refresh` }
    })
    const theirs = (round: number) =>
      Effect.gen(function*() {
        const previous = `expired-${round}`
        google.setCredentials({
          access_token: previous,
          refresh_token: tokens.refresh_token,
          token_type: "Bearer",
          expiry_date: Date.now() - 1000
        })
        const { millis, refreshes, value } = yield* countRefreshes(
          server,
          Effect.promise(() =>
            Promise.all(
              Array.from({ length: options.callers }, () => google.getAccessToken().then((r) => r.token ?? ""))
            )
          )
        )
        return { refreshes, millis, consistent: allEqual(value, previous) }
      })

    const results = {
      shapes: {
        "forked from one parent": { ours: [] as Array<StormRound>, floor: [] as Array<number> },
        "independent fibers": { ours: [] as Array<StormRound>, floor: [] as Array<number> }
      },
      "google-auth-library": [] as Array<StormRound>,
      load: [] as Array<number>
    }
    // Each round runs every shape's storm beside its floor, back to back.
    for (let round = 0; round < options.rounds; round++) {
      for (const shape of shapes) {
        globalThis.gc?.()
        results.shapes[shape].ours.push(yield* ours(shape))
        globalThis.gc?.()
        results.shapes[shape].floor.push(yield* floor(shape))
      }
      results["google-auth-library"].push(yield* theirs(round))
      results.load.push(loadAverage())
    }
    return results satisfies Results
  })
