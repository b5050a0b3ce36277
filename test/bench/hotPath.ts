/**
 * 2. Hot path: reading a valid, cached access token. Ours is `yield* manager.accessToken()` in an Effect loop;
 * google-auth-library's `OAuth2Client.getAccessToken()` with credentials valid for a day; simple-oauth2's
 * `AccessToken.expired()` check plus a read of the token. Two floors in the same loop: "yield* Effect.succeed" (a
 * constant, the least a `yield*` costs) and "yield* Effect.sync" (a constant read through one `Effect.sync`, the least
 * any Effect-returning accessor that reads state can cost); and "yield* Effect.clockWith" (a constant answered after a read
 * of the fiber's `Clock`, the least an accessor that must follow the fiber's clock, as `TestClock` needs, can cost).
 */
import { AccountId, TokenManager, TokenStore } from "@dropbox-sign-effect/oauth"
import { NodeHttpClient } from "@effect/platform-node"
import { Context, Effect, Layer, Redacted } from "effect"
import { OAuth2Client } from "google-auth-library"
import { AuthorizationCode } from "simple-oauth2"

import type { FakeServer } from "./control.js"
import { type Candidate, interleave, type Interleaved, timed } from "./measure.js"
import { defaultCredentials, grant, managerLayer } from "./setup.js"

export const candidates = [
  "ours",
  "google-auth-library",
  "simple-oauth2",
  "floor: yield* Effect.succeed",
  "floor: yield* Effect.sync",
  "floor: yield* Effect.clockWith"
] as const
export type HotPathCandidate = typeof candidates[number]

export interface Options {
  readonly rounds: number
  readonly operations: number
}

export interface Results extends Interleaved {
  /** Token requests the fake received while the loops ran: 0, or some candidate was not reading a cached token. */
  readonly tokenRequestsDuringRun: number
}

const day = 24 * 60 * 60 * 1000

/** A manager over the memory store, authorized for the default account. */
export const authorizedManager = (server: FakeServer) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      managerLayer(server.url).pipe(Layer.provide(TokenStore.layerMemory), Layer.provide(NodeHttpClient.layerUndici))
    )
    const manager = Context.get(context, TokenManager.TokenManager)
    const code = yield* server.issueCode({ state: "hot" })
    yield* Effect.orDie(manager.authorize(AccountId.defaultAccount, { code: Redacted.make(code), state: "hot" }, "hot"))
    return manager
  })

export const run = (server: FakeServer, options: Options) =>
  Effect.gen(function*() {
    const n = options.operations
    const manager = yield* authorizedManager(server)
    const tokens = yield* grant(server)

    const google = new OAuth2Client({
      clientId: defaultCredentials.clientId,
      clientSecret: defaultCredentials.clientSecret,
      endpoints: { oauth2TokenUrl: `${server.url}/oauth/token?refresh` }
    })
    google.setCredentials({
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      token_type: "Bearer",
      expiry_date: Date.now() + day
    })

    const simple = new AuthorizationCode({
      client: { id: defaultCredentials.clientId, secret: defaultCredentials.clientSecret },
      auth: { tokenHost: server.url, tokenPath: "/oauth/token" }
    })
    const simpleToken = simple.createToken({
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      token_type: "Bearer",
      expires_in: day / 1000
    })

    // Every loop reads the token's characters' count, so that no engine can drop the read.
    let sink = 0
    const ours = timed(
      n,
      Effect.gen(function*() {
        for (let i = 0; i < n; i++) sink += Redacted.value(yield* manager.accessToken()).length
      }).pipe(Effect.orDie)
    )
    const googleLoop = timed(
      n,
      Effect.promise(async () => {
        for (let i = 0; i < n; i++) sink += (await google.getAccessToken()).token?.length ?? 0
      })
    )
    const simpleLoop = timed(
      n,
      Effect.sync(() => {
        for (let i = 0; i < n; i++) {
          if (simpleToken.expired()) throw new Error("simple-oauth2: token unexpectedly expired")
          sink += String(simpleToken.token.access_token).length
        }
      })
    )

    const constant = tokens.access_token
    const succeed = Effect.succeed(constant)
    const floorSucceed = timed(
      n,
      Effect.gen(function*() {
        for (let i = 0; i < n; i++) sink += (yield* succeed).length
      })
    )
    const floor = timed(
      n,
      Effect.gen(function*() {
        for (let i = 0; i < n; i++) sink += (yield* Effect.sync(() => constant)).length
      })
    )

    const floorClock = timed(
      n,
      Effect.gen(function*() {
        for (let i = 0; i < n; i++) {
          sink += (yield* Effect.clockWith((clock) => clock.unsafeCurrentTimeMillis() > 0 ? succeed : succeed)).length
        }
      })
    )

    const list: ReadonlyArray<Candidate<never, never> & { readonly name: HotPathCandidate }> = [
      { name: "ours", run: ours },
      { name: "google-auth-library", run: googleLoop },
      { name: "simple-oauth2", run: simpleLoop },
      { name: "floor: yield* Effect.succeed", run: floorSucceed },
      { name: "floor: yield* Effect.sync", run: floor },
      { name: "floor: yield* Effect.clockWith", run: floorClock }
    ]
    const before = yield* server.counters
    const interleaved = yield* interleave(list, options.rounds)
    const after = yield* server.counters
    if (sink === 0) return yield* Effect.dieMessage("no token was read")
    return { ...interleaved, tokenRequestsDuringRun: after.requests - before.requests } satisfies Results
  })
