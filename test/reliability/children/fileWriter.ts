/**
 * A process that writes one account's token to a file store as fast as it can, until it is killed: the victim of
 * `file-kills.test.ts`. Each completed write is reported on stdout as `<version> <milliseconds>` (how long the durable
 * write took: temporary file, fsync, rename, directory fsync).
 */
import { AccountId, OAuthToken, TokenStore } from "@dropbox-sign-effect/oauth"
import { NodeContext } from "@effect/platform-node"
import { Clock, DateTime, Effect, Option, Redacted } from "effect"

const directory = process.argv[2]!
const account = AccountId.make("file-kills")

const program = Effect.gen(function*() {
  const store = yield* TokenStore.makeFileSystem(directory)
  let version = Option.match(yield* store.get(account), { onNone: () => null, onSome: (entry) => entry.version })
  for (;;) {
    const issuedAt = yield* DateTime.now
    const label = `${process.pid}-${version ?? 0}`
    const token = new OAuthToken.OAuthToken({
      accessToken: Redacted.make(`access-${label}`),
      refreshToken: Redacted.make(`refresh-${label}`),
      tokenType: "Bearer",
      issuedAt,
      expiresAt: DateTime.add(issuedAt, { hours: 1 })
    })
    const start = yield* Clock.currentTimeMillis
    const written = yield* store.set(account, token, { expectedVersion: version })
    const millis = (yield* Clock.currentTimeMillis) - start
    version = written.version
    yield* Effect.sync(() => process.stdout.write(`${written.version} ${millis}\n`))
  }
})

Effect.runPromise(Effect.provide(program, NodeContext.layer)).catch((error: unknown) => {
  process.stderr.write(`file writer failed: ${String(error)}\n`)
  process.exit(1)
})
