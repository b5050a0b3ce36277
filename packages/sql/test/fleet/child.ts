/**
 * A process of the fleet: its own `TokenManager` over its own `SqlTokenStore` and connection pool, on the database and
 * fake server the parent test gives it. Run as `node --conditions=source --import tsx child.ts`, configured by the
 * `FLEET_CONFIG` environment variable (JSON, see `protocol.ts`).
 *
 * Modes: `worker` answers commands; `hold-lock` takes the account's refresh lock and hangs, to be killed.
 */
import * as Readline from "node:readline"

import { AccountId, OAuthConfig, TokenManager, TokenStore } from "@dropbox-sign-effect/oauth"
import { SqlTokenStore } from "@dropbox-sign-effect/sql"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import { Array as Arr, Clock, Effect, Either, Layer, Redacted, Schema, Stream } from "effect"

import * as Protocol from "./protocol.js"

const send = (message: Protocol.Message) =>
  Effect.flatMap(
    Schema.encode(Protocol.MessageJson)(message),
    (line) => Effect.sync(() => process.stdout.write(`${line}\n`))
  )

const commands = Stream.fromAsyncIterable(
  Readline.createInterface({ input: process.stdin, crlfDelay: Infinity }),
  (error) => new Error(`stdin: ${String(error)}`)
).pipe(Stream.mapEffect((line) => Schema.decodeUnknown(Protocol.CommandJson)(line)))

const worker = (config: Protocol.Config) =>
  Effect.gen(function*() {
    const manager = yield* TokenManager.TokenManager
    const account = AccountId.make(config.account)
    yield* send({ _tag: "Ready", pid: process.pid })
    yield* Stream.runForEach(commands, (command) => {
      switch (command._tag) {
        case "Burst":
          return Effect.gen(function*() {
            const start = yield* Clock.currentTimeMillis
            const accounts = command.accounts?.map(AccountId.make) ?? [account]
            const results = yield* Effect.forEach(
              accounts.flatMap((id) => Arr.replicate(id, command.calls)),
              (id) => Effect.either(manager.accessToken(id)),
              { concurrency: "unbounded" }
            )
            const millis = (yield* Clock.currentTimeMillis) - start
            const tokens = Arr.dedupe(
              Arr.getRights(results).map((token) => Protocol.fingerprint(Redacted.value(token)))
            )
            const failures = Arr.getLefts(results).map((error) => `${error._tag}: ${error.message}`)
            yield* send({ _tag: "BurstDone", tokens, failures, millis })
          })
        case "Refresh":
          return Effect.gen(function*() {
            yield* manager.refresh(account)
            const current = yield* Effect.flatten(Effect.flatMap(TokenStore.TokenStore, (store) => store.get(account)))
            yield* send({
              _tag: "Refreshed",
              version: current.version,
              token: Protocol.fingerprint(Redacted.value(current.token.accessToken))
            })
          }).pipe(Effect.catchAll((error) => send({ _tag: "Failed", error: `${error._tag}: ${error.message}` })))
        case "Exit":
          return Effect.sync(() => process.exit(0))
      }
    })
  })

const holdLock = (config: Protocol.Config) =>
  Effect.gen(function*() {
    const store = yield* TokenStore.TokenStore
    yield* store.withRefreshLock(
      AccountId.make(config.account),
      Effect.zipRight(send({ _tag: "Locked", pid: process.pid }), Effect.never)
    )
  })

const main = Effect.gen(function*() {
  const config = yield* Schema.decodeUnknown(Protocol.ConfigJson)(process.env.FLEET_CONFIG)
  const StoreLive = SqlTokenStore.layer({ schema: config.schema, lockTimeout: config.lockTimeoutMillis }).pipe(
    Layer.provide(PgClient.layer({
      url: Redacted.make(config.databaseUrl),
      maxConnections: config.maxConnections,
      applicationName: config.applicationName
    }))
  )
  if (config.mode === "hold-lock") {
    return yield* Effect.provide(holdLock(config), StoreLive)
  }
  const ManagerLive = TokenManager.layerWithClient({ backgroundRefresh: false }).pipe(
    Layer.provideMerge(StoreLive),
    Layer.provide(OAuthConfig.layer({
      clientId: config.clientId,
      clientSecret: Redacted.make(config.clientSecret),
      oauthUrl: config.oauthUrl,
      apiUrl: config.apiUrl,
      // The token is due exactly at its expiry: every caller of a burst finds it expired at once.
      refreshWindow: { ratio: 0, jitter: 0 }
    })),
    Layer.provide(NodeHttpClient.layerUndici)
  )
  return yield* Effect.provide(worker(config), ManagerLive)
})

Effect.runPromise(Effect.either(main)).then((result) => {
  if (Either.isLeft(result)) {
    process.stderr.write(`fleet child failed: ${String(result.left)}\n`)
    process.exit(1)
  }
  process.exit(0)
}, (defect: unknown) => {
  process.stderr.write(`fleet child died: ${String(defect)}\n`)
  process.exit(2)
})
