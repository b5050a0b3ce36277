/**
 * A TCP proxy in front of PostgreSQL that a test can cut, to see what the store does when its database goes away
 * (without stopping the database every other test uses).
 */
import * as Net from "node:net"

import type { Scope } from "effect"
import { Effect } from "effect"

export interface Proxy {
  readonly url: string
  /** Resets every open connection and every new one until `restore`. */
  readonly cut: Effect.Effect<void>
  readonly restore: Effect.Effect<void>
}

export const make = (databaseUrl: string): Effect.Effect<Proxy, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const target = new URL(databaseUrl)
    // Read by the server's connection callback, outside any fiber.
    let down = false
    const sockets = new Set<Net.Socket>()
    const server = Net.createServer((client) => {
      if (down) {
        client.resetAndDestroy()
        return
      }
      const upstream = Net.connect(Number(target.port || 5432), target.hostname)
      for (const socket of [client, upstream]) {
        sockets.add(socket)
        socket.on("close", () => sockets.delete(socket))
        socket.on("error", () => {
          client.destroy()
          upstream.destroy()
        })
      }
      client.pipe(upstream).pipe(client)
    })
    const port = yield* Effect.acquireRelease(
      Effect.async<number, Error>((resume) => {
        server.once("error", (error) => resume(Effect.fail(error)))
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          resume(
            address !== null && typeof address === "object"
              ? Effect.succeed(address.port)
              : Effect.fail(new Error("no port"))
          )
        })
      }),
      () =>
        Effect.async<void>((resume) => {
          for (const socket of sockets) socket.destroy()
          server.close(() => resume(Effect.void))
        })
    )
    const url = new URL(databaseUrl)
    url.hostname = "127.0.0.1"
    url.port = String(port)
    return {
      url: url.toString(),
      cut: Effect.sync(() => {
        down = true
        for (const socket of sockets) socket.resetAndDestroy()
      }),
      restore: Effect.sync(() => {
        down = false
      })
    }
  })
