/**
 * The path every request on a fake's route takes: its queued fault, its body, the log, the rate limit, then the
 * route's handler (unless the fault replaces it), run so that it outlives a client that stops waiting.
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"

import type { Route } from "../FakeDropboxSignFault.js"
import { SimulatedTransportFault } from "../FakeDropboxSignFault.js"
import * as Body from "./body.js"
import type { Env } from "./fakeDropboxSign.js"
import * as Faults from "./faults.js"
import * as Reply from "./reply.js"
import { routeCounter } from "./requestLog.js"
import type { Problem } from "./store.js"
import { badRequest } from "./store.js"

/** An OAuth error reply for a problem found by a transition. */
export const problemReply = (problem: Problem): Reply.Reply =>
  Reply.error({
    status: problem.status,
    shape: problem.shape,
    errorName: problem.errorName,
    rfcError: problem.rfcError,
    errorMsg: problem.errorMsg,
    errorPath: problem.errorPath
  })

const rateLimited = Reply.error({
  status: 429,
  shape: "dropbox",
  errorName: "exceeded_rate",
  errorMsg: "Rate limit exceeded"
})

/** A route's handler: the parsed body and the request in, a reply out. */
export type Handler = (
  body: Body.ParsedBody,
  request: HttpServerRequest.HttpServerRequest
) => Effect.Effect<Reply.Reply>

/** Runs one request on `route`: fault, body, log, rate limit, then `handle` (unless the fault replaces it). */
export const serve = (
  env: Env,
  route: Route,
  handle: Handler
): Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  SimulatedTransportFault,
  HttpServerRequest.HttpServerRequest
> =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const fault = yield* env.faults.take(route)
    if (fault?._tag === "ConnectionRefused") {
      // A refused connection never reaches the server: not logged, nothing read.
      yield* env.log.faultWithoutRequest
      return yield* new SimulatedTransportFault({ kind: "ConnectionRefused" })
    }
    const body = request.method === "GET" || request.method === "HEAD" ?
      Body.empty(request.headers["content-type"]) :
      yield* Body.read(request)
    yield* env.log.record({ route, counter: routeCounter[route], request, body, fault })
    const tokenRoute = route === "token" || route === "refresh"
    const admission = tokenRoute ? yield* Effect.flatMap(Clock.currentTimeMillis, env.rateLimit.admit) : undefined
    const rateHeaders = admission?.headers ?? {}
    const normal = Effect.suspend((): Effect.Effect<Reply.Reply> => {
      if (admission?.refused === true) return Effect.succeed(rateLimited)
      if (body.malformed) {
        return Effect.succeed(problemReply(badRequest(env.defaultShape, undefined, "Could not parse the body")))
      }
      return handle(body, request)
    }).pipe(
      Effect.tap((reply) => reply.status >= 400 ? env.log.count("rejected") : Effect.void),
      Effect.map((reply) => Reply.withHeaders(reply, rateHeaders))
    )
    // A request that reached the server is carried out even if the client stops waiting (a timeout during a
    // `Latency` fault): the outcome-unknown case is then as real as it is in production.
    const handling = yield* FiberSet.run(
      env.inFlight,
      Faults.apply(fault, normal, { defaultShape: env.defaultShape, limit: env.rateLimit.limit, rateHeaders })
    )
    return Reply.render(yield* Fiber.join(handling))
  })
