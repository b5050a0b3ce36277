/**
 * The benchmarks' Dropbox Sign: `FakeDropboxSign.layerServer` (request log off) in a process of its own, so that its
 * work is not counted in the CPU time of the clients being measured. Prints `{"url": "..."}` on one line of stdout
 * once it listens, answers control messages (`control.ts`) over the IPC channel, and exits when the channel closes.
 */
import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import { NodeRuntime } from "@effect/platform-node"
import { Duration, Effect, Redacted, Runtime } from "effect"

import type { Command, Reply } from "./control.js"

const handle = (fake: FakeDropboxSign.Service, command: Command): Effect.Effect<unknown, unknown> => {
  switch (command.op) {
    case "counters":
      return fake.counters
    case "issueCode":
      return Effect.map(
        fake.issueCode({ clientId: command.clientId, state: command.state }),
        Redacted.value
      )
    case "registerApp":
      return Effect.map(
        fake.registerApp({
          ...(command.accessTokenTtlMillis === undefined ?
            {} :
            { accessTokenTtl: Duration.millis(command.accessTokenTtlMillis) })
        }),
        (app) => ({ clientId: app.clientId, clientSecret: Redacted.value(app.clientSecret) })
      )
  }
}

const program = Effect.gen(function*() {
  const fake = yield* FakeDropboxSign.FakeDropboxSign
  const server = yield* FakeDropboxSign.FakeDropboxSignServer
  const run = Runtime.runPromiseExit(yield* Effect.runtime<never>())
  const send = process.send?.bind(process)
  if (send === undefined) return yield* Effect.dieMessage("server.ts must be started with an IPC channel (fork)")
  process.on("message", (message: Command) => {
    void run(handle(fake, message)).then((exit) => {
      const reply: Reply = exit._tag === "Success" ?
        { id: message.id, ok: true, value: exit.value } :
        { id: message.id, ok: false, error: String(exit.cause) }
      send(reply)
    })
  })
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`)
  // Runs until the parent goes away (or signals us): then the scope closes and the server stops.
  yield* Effect.async<void>((resume) => {
    process.once("disconnect", () => resume(Effect.void))
  })
})

program.pipe(
  Effect.provide(FakeDropboxSign.layerServer({ logRequests: false })),
  NodeRuntime.runMain({ disableErrorReporting: false })
)
