/**
 * The request log and the counters: the only writer of both. Every request that reaches the fake is recorded once,
 * with its credentials redacted; outcomes (codes exchanged, consents, rejections) are counted as they happen.
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"

import type { Fault, Route } from "../FakeDropboxSignFault.js"
import type { Counters, LoggedRequest } from "../FakeDropboxSignLog.js"
import type { ParsedBody } from "./body.js"
import * as Redact from "./redact.js"

/** A counter that counts outcomes rather than requests. */
export type Outcome = "consentsGranted" | "consentsDenied" | "codesExchanged" | "refreshesServed" | "rejected"

/** The log and counters of one fake. */
export interface RequestLog {
  /**
   * Records a request that reached the fake: `route` for the log, `counter` for the per-route count (none for a path
   * the fake does not serve, or for a consent form, which is not an authorization request).
   */
  readonly record: (entry: {
    readonly route: Route | undefined
    readonly counter: RouteCounter | undefined
    readonly request: HttpServerRequest.HttpServerRequest
    readonly body: ParsedBody
    readonly fault: Fault | undefined
  }) => Effect.Effect<void>
  /** A request refused before it reached the fake: only the fault is counted. */
  readonly faultWithoutRequest: Effect.Effect<void>
  readonly count: (outcome: Outcome) => Effect.Effect<void>
  readonly requests: Effect.Effect<ReadonlyArray<LoggedRequest>>
  readonly counters: Effect.Effect<Counters>
  readonly reset: Effect.Effect<void>
}

/** The per-route request counters. */
export type RouteCounter = "authorizeRequests" | "tokenRequests" | "refreshRequests" | "accountRequests"

/** The counter of each route's requests. */
export const routeCounter = {
  authorize: "authorizeRequests",
  token: "tokenRequests",
  refresh: "refreshRequests",
  account: "accountRequests"
} as const satisfies Record<Route, RouteCounter>

const noCounters: Counters = {
  requests: 0,
  authorizeRequests: 0,
  consentsGranted: 0,
  consentsDenied: 0,
  tokenRequests: 0,
  codesExchanged: 0,
  refreshRequests: 0,
  refreshesServed: 0,
  accountRequests: 0,
  rejected: 0,
  faultsInjected: 0
}

/** A log; with `logRequests: false` entries are not kept, counters still count. */
export const make = (logRequests: boolean): Effect.Effect<RequestLog> =>
  Effect.gen(function*() {
    const log = yield* Ref.make(Chunk.empty<LoggedRequest>())
    const counters = yield* Ref.make(noCounters)
    return {
      record: ({ body, counter, fault, request, route }) =>
        Effect.gen(function*() {
          const receivedAt = yield* Clock.currentTimeMillis
          if (logRequests) {
            const entry: LoggedRequest = {
              route,
              method: request.method,
              path: request.url,
              headers: Redact.headers(request.headers),
              contentType: body.contentType,
              body: Redact.body(body.fields),
              malformedBody: body.malformed,
              fault: fault?._tag,
              receivedAt
            }
            yield* Ref.update(log, Chunk.append(entry))
          }
          yield* Ref.update(counters, (c) => ({
            ...c,
            requests: c.requests + 1,
            ...(counter === undefined ? {} : { [counter]: c[counter] + 1 }),
            faultsInjected: c.faultsInjected + (fault === undefined ? 0 : 1)
          }))
        }),
      faultWithoutRequest: Ref.update(counters, (c) => ({ ...c, faultsInjected: c.faultsInjected + 1 })),
      count: (outcome) => Ref.update(counters, (c) => ({ ...c, [outcome]: c[outcome] + 1 })),
      requests: Effect.map(Ref.get(log), Chunk.toReadonlyArray),
      counters: Ref.get(counters),
      reset: Effect.zipRight(Ref.set(log, Chunk.empty()), Ref.set(counters, noCounters))
    }
  })
