/**
 * 3. Refresh storm: 10,000 concurrent token reads at expiry, counted by the fake's refresh counter.
 *
 * Ours: the callers run on a live clock shifted past the stored token's expiry (the manager takes time from `Clock`),
 * so every caller of the storm sees the token expired however long the storm takes, and no round waits for a real
 * expiry. google-auth-library: credentials whose `expiry_date` has passed, refreshed against the fake's token endpoint
 * (`endpoints.oauth2TokenUrl`). Both refresh with real requests to the fake.
 */
import { AccountId, TokenManager, TokenStore } from "@dropbox-sign-effect/oauth"
import { NodeHttpClient } from "@effect/platform-node"
import { Clock, Context, DateTime, Deferred, Effect, Layer, Redacted } from "effect"
import { OAuth2Client } from "google-auth-library"

import type { FakeServer } from "./control.js"
import { median } from "./measure.js"
import { grant, managerLayer } from "./setup.js"

export interface Options {
  readonly rounds: number
  readonly callers: number
}

export interface StormResult {
  /** Refresh requests the fake received, per round. */
  readonly refreshRequests: ReadonlyArray<number>
  /** Median time from the first call until every caller had a token, in milliseconds. */
  readonly medianMillis: number
  readonly millis: ReadonlyArray<number>
  /** Every caller of a round got the same, new token. */
  readonly consistent: boolean
}

export type Results = Record<"ours" | "google-auth-library", StormResult> & {
  /** Reference: median time for `callers` fibers (`Effect.forEach`, unbounded) to await one `Deferred`. */
  readonly fiberFloorMedianMillis: number
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

    const ours: Array<{ refreshes: number; millis: number; consistent: boolean }> = []
    let offset = 0
    for (let round = 0; round < options.rounds; round++) {
      const token = yield* Effect.orDie(Effect.withClock(manager.token(), shiftedClock(offset)))
      // Just past expiry, so that every caller must wait for the refresh (no stale-while-revalidate answer).
      offset = DateTime.toEpochMillis(token.expiresAt) - Date.now() + 1
      const { millis, refreshes, value } = yield* countRefreshes(
        server,
        Effect.forEach(
          Array.from({ length: options.callers }),
          () => Effect.map(manager.accessToken(), Redacted.value),
          { concurrency: "unbounded" }
        ).pipe(Effect.orDie, Effect.withClock(shiftedClock(offset)))
      )
      ours.push({ refreshes, millis, consistent: allEqual(value, Redacted.value(token.accessToken)) })
    }

    // google-auth-library, against the same app: it shares one in-flight refresh per refresh token.
    const tokens = yield* grant(server, app)
    const google = new OAuth2Client({
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      endpoints: { oauth2TokenUrl: `${server.url}/oauth/token?refresh` }
    })
    const theirs: Array<{ refreshes: number; millis: number; consistent: boolean }> = []
    for (let round = 0; round < options.rounds; round++) {
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
      theirs.push({ refreshes, millis, consistent: allEqual(value, previous) })
    }

    // The same fan-out with nothing of ours: what starting and resuming this many fibers costs here.
    const floor: Array<number> = []
    for (let round = 0; round < options.rounds; round++) {
      const done = yield* Deferred.make<void>()
      const start = performance.now()
      yield* Effect.fork(Effect.zipRight(Effect.sleep("1 millis"), Deferred.succeed(done, undefined)))
      yield* Effect.forEach(Array.from({ length: options.callers }), () => Deferred.await(done), {
        concurrency: "unbounded"
      })
      floor.push(performance.now() - start)
    }

    const summarize = (rounds: ReadonlyArray<{ refreshes: number; millis: number; consistent: boolean }>) => ({
      refreshRequests: rounds.map((r) => r.refreshes),
      medianMillis: median(rounds.map((r) => r.millis)),
      millis: rounds.map((r) => r.millis),
      consistent: rounds.every((r) => r.consistent)
    })
    return {
      ours: summarize(ours),
      "google-auth-library": summarize(theirs),
      fiberFloorMedianMillis: median(floor)
    } satisfies Results
  })
