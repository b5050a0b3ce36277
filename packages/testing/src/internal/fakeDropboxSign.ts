/**
 * A fake's state and its assembly: the store, the fault queues, the request log, the rate limit and the requests in
 * flight, shared by its control service (`control.ts`) and its `HttpApp` (`routes.ts`).
 */
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"

import type { Instance, Options } from "../FakeDropboxSign.js"
import type { ErrorShape, FakeApp } from "../FakeDropboxSignApp.js"
import { defaultApp } from "../FakeDropboxSignApp.js"
import type { SimulatedTransportFault } from "../FakeDropboxSignFault.js"
import * as Control from "./control.js"
import * as Faults from "./faults.js"
import * as RateLimit from "./rateLimit.js"
import type * as Reply from "./reply.js"
import * as RequestLog from "./requestLog.js"
import * as Routes from "./routes.js"
import * as Store from "./store.js"

/** Everything a fake holds; each part has one module that writes it. */
export interface Env {
  /** Written only through the transitions of `store.ts`, `grants.ts` and `authorization.ts`. */
  readonly store: Ref.Ref<Store.Store>
  readonly faults: Faults.FaultQueue
  readonly log: RequestLog.RequestLog
  readonly rateLimit: RateLimit.RateLimit
  /** Requests in progress on the server side; they outlive a client that gave up and end with the fake. */
  readonly inFlight: FiberSet.FiberSet<Reply.Reply, SimulatedTransportFault>
  /** The error shape when no app can be identified from the request. */
  readonly defaultShape: ErrorShape
  /** The app registered at start, which `issueCode` uses by default. */
  readonly firstApp: FakeApp
}

/** A fake: its state, its control service and its `HttpApp`, its requests in flight ended with the scope. */
export const make = (options: Options = {}): Effect.Effect<Instance, never, Scope.Scope> =>
  Effect.gen(function*() {
    const firstApp = Control.applyOptions(defaultApp, options.defaultApp ?? {})
    const env: Env = {
      store: yield* Ref.make(Store.make(firstApp, Control.firstAccount(options.defaultAccount ?? {}))),
      faults: yield* Faults.makeQueue,
      log: yield* RequestLog.make(options.logRequests ?? true),
      rateLimit: yield* RateLimit.make(options.rateLimit),
      inFlight: yield* FiberSet.make<Reply.Reply, SimulatedTransportFault>(),
      defaultShape: options.errorShape ?? "dropbox",
      firstApp
    }
    return { service: Control.make(env), app: Routes.make(env) }
  })
