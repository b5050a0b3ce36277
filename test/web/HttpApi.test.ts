/**
 * The routes inside an `HttpApi` application: mounted on `HttpApiBuilder.Router` next to the API's own endpoints.
 */
import type { OAuthClient, TokenManager } from "@dropbox-sign-effect/oauth"
import { AuthorizationRoutes } from "@dropbox-sign-effect/oauth"
import { HttpApi, HttpApiBuilder, HttpApiEndpoint, HttpApiGroup, HttpRouter } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"

import * as H from "./harness.js"

const Api = HttpApi.make("app").add(
  HttpApiGroup.make("health").add(HttpApiEndpoint.get("health", "/health").addSuccess(Schema.String))
)

const HealthLive = HttpApiBuilder.group(
  Api,
  "health",
  (handlers) => handlers.handle("health", () => Effect.succeed("ok"))
)

// The README's recipe: the router's services come from the layer that mounts it.
const DropboxSignLive = HttpApiBuilder.Router.use((router) =>
  Effect.flatMap(
    Effect.context<AuthorizationRoutes.AuthorizationRoutes | TokenManager.TokenManager | OAuthClient.OAuthClient>(),
    (context) =>
      router.mount(
        "/dropbox-sign",
        HttpRouter.use(AuthorizationRoutes.router({ resolveAccount: H.resolveAccount }), Effect.provide(context))
      )
  )
)

describe("AuthorizationRoutes in an HttpApi application", () => {
  it.scoped("serves /dropbox-sign/* next to the API's endpoints", () =>
    Effect.gen(function*() {
      const app = yield* HttpApiBuilder.httpApp.pipe(
        Effect.provide(
          Layer.mergeAll(HttpApiBuilder.api(Api).pipe(Layer.provide(HealthLive)), DropboxSignLive).pipe(
            Layer.provideMerge(Layer.mergeAll(HttpApiBuilder.Router.Live, HttpApiBuilder.Middleware.layer))
          )
        )
      )
      const health = yield* H.send(app, "/health")
      expect(health.status).toBe(200)
      expect(health.body).toBe("\"ok\"")
      const { callback, cookie } = yield* H.startAuthorization(app, "alice")
      const done = yield* H.send(app, callback, { user: "alice", cookie })
      expect(done.status).toBe(303)
      expect(done.headers["location"]).toBe("/")
    }).pipe(Effect.provide([H.layer(), NodeHttpServer.layerContext])))
})
