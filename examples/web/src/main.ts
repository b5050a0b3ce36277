/**
 * `pnpm example:web`: with `DROPBOX_SIGN_CLIENT_ID` unset, the example runs against an embedded fake Dropbox Sign on
 * loopback; with it set, against Dropbox Sign (`DROPBOX_SIGN_CLIENT_SECRET` and `DROPBOX_SIGN_COOKIE_KEY` required).
 * `PORT` (default 3000, 0 for any free port), `HOST` (default 127.0.0.1), `TOKEN_DIR` (default `.tokens`), `DATABASE_URL` (PostgreSQL).
 */
import { AuthorizationRoutes, OAuthConfig } from "@dropbox-sign-effect/oauth"
import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import { NodeRuntime } from "@effect/platform-node"
import { Config, Console, Effect, Layer, Option } from "effect"

import * as Embedded from "./Embedded.js"
import * as Pages from "./Pages.js"
import * as Server from "./Server.js"
import * as Storage from "./Storage.js"

const announce = <R>(lines: Effect.Effect<ReadonlyArray<string>, never, R>) =>
  Layer.effectDiscard(Effect.flatMap(lines, (lines) => Console.log(lines.join("\n"))))

const tokensLiveIn = Effect.map(
  Config.option(Config.string("DATABASE_URL")),
  Option.match({ onNone: () => "a temporary directory", onSome: () => "PostgreSQL (DATABASE_URL)" })
).pipe(Effect.orElseSucceed(() => "the configured store"))

const embedded = (port: number) =>
  announce(
    Effect.map(
      Effect.all([Server.ExampleUrl, FakeDropboxSign.FakeDropboxSignServer, tokensLiveIn]),
      ([url, fake, store]) => [
        `Example web app: open ${url}/`,
        `Dropbox Sign is an embedded fake at ${fake.url} (with its consent page); tokens live in ${store}.`,
        "Ctrl-C to stop."
      ]
    )
  ).pipe(Layer.provideMerge(Embedded.layer({ port, store: Storage.fromEnvironment(Storage.temporary) })))

const tokenDirectory = Layer.unwrapEffect(
  Effect.map(Config.string("TOKEN_DIR").pipe(Config.withDefault(".tokens")), Storage.fileSystem)
)

const configured = (port: number) =>
  Effect.map(
    Config.string("HOST").pipe(Config.withDefault("127.0.0.1")),
    (host) =>
      announce(Effect.map(Server.ExampleUrl, (url) => [
        `Example web app: open ${url}/`,
        `Register ${url}${Pages.routesPrefix}/callback as the callback URL of your Dropbox Sign API app.`
      ])).pipe(
        Layer.provideMerge(Server.serve),
        Layer.provide([
          OAuthConfig.layerConfig(),
          AuthorizationRoutes.layerConfig(),
          Storage.fromEnvironment(tokenDirectory)
        ]),
        Layer.provideMerge(Server.listen({ port, host }))
      )
  )

const main = Effect.gen(function*() {
  const port = yield* Config.integer("PORT").pipe(
    Config.validate({ message: "Expected a port number, 0 for any free port", validation: (n) => n >= 0 && n < 65536 }),
    Config.withDefault(3000)
  )
  const clientId = yield* Config.option(Config.string(OAuthConfig.env.clientId))
  return yield* Option.isSome(clientId) ?
    Effect.flatMap(configured(port), Layer.launch) :
    Layer.launch(embedded(port))
})

NodeRuntime.runMain(main)
