/**
 * Fault injection: the per-route queues (the only writer of them) and what each `Fault` does to a request.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"

import type { Fault, Route } from "../FakeDropboxSignFault.js"
import { SimulatedTransportFault } from "../FakeDropboxSignFault.js"
import * as Reply from "./reply.js"

type Queues = Readonly<Record<Route, ReadonlyArray<Fault>>>

const noFaults: Queues = { authorize: [], token: [], refresh: [], account: [] }

/** The faults queued per route, consumed FIFO. */
export interface FaultQueue {
  readonly inject: (route: Route, fault: Fault, times: number) => Effect.Effect<void>
  /** The next fault for `route`, removed from its queue. */
  readonly take: (route: Route) => Effect.Effect<Fault | undefined>
  readonly clear: Effect.Effect<void>
}

/** Empty queues. */
export const makeQueue: Effect.Effect<FaultQueue> = Effect.map(Ref.make(noFaults), (queues) => ({
  inject: (route, fault, times) =>
    Ref.update(queues, (current) => ({
      ...current,
      [route]: [...current[route], ...Array.from({ length: Math.max(0, times) }, () => fault)]
    })),
  take: (route) =>
    Ref.modify(queues, (current): readonly [Fault | undefined, Queues] => {
      const [head, ...rest] = current[route]
      return head === undefined ? [undefined, current] : [head, { ...current, [route]: rest }]
    }),
  clear: Ref.set(queues, noFaults)
}))

/** The HTML page a proxy answers with. */
const proxyPage = (status: number): string =>
  `<!DOCTYPE html>\n<html><head><title>${status} Error</title></head>` +
  `<body><h1>${status} Error</h1><p>The server encountered a temporary error.</p></body></html>\n`

const truncate = (reply: Reply.Reply): Reply.Reply => {
  const body = reply.body ?? "{}"
  return { ...reply, body: body.slice(0, Math.max(1, Math.floor(body.length / 2))), contentType: "application/json" }
}

/** What a fault's error replies need to know of the fake. */
export interface FaultContext {
  readonly defaultShape: Reply.ErrorShape
  /** The rate limit's `X-RateLimit-Limit`, for `RateLimited({ resetAfter })`. */
  readonly limit: number
  /** The request's rate-limit headers, kept on a `Status` reply. */
  readonly rateHeaders: Readonly<Record<string, string>>
}

/**
 * `normal` (the request carried out) as `fault` changes it: delayed, replaced, cut short, or turned into a broken
 * connection, which the layers render as a client would see it.
 */
export const apply = (
  fault: Fault | undefined,
  normal: Effect.Effect<Reply.Reply>,
  context: FaultContext
): Effect.Effect<Reply.Reply, SimulatedTransportFault> => {
  if (fault === undefined) return normal
  switch (fault._tag) {
    case "Latency":
      return Effect.zipRight(Effect.sleep(fault.duration), normal)
    case "Hang":
      return Effect.never
    case "ConnectionReset":
      return Effect.zipRight(
        fault.processed === true ? normal : Effect.void,
        new SimulatedTransportFault({ kind: "ConnectionReset" })
      )
    case "ConnectionRefused":
      return new SimulatedTransportFault({ kind: "ConnectionRefused" })
    case "Status":
      return Effect.succeed(Reply.error({
        status: fault.status,
        shape: fault.shape ?? context.defaultShape,
        errorName: fault.errorName ?? Reply.errorNameFor(fault.status),
        errorMsg: fault.errorMsg ?? `Injected fault: HTTP ${fault.status}`,
        errorPath: fault.errorPath,
        headers: { ...context.rateHeaders, ...fault.headers }
      }))
    case "RateLimited":
      return Effect.map(Clock.currentTimeMillis, (now) =>
        Reply.error({
          status: 429,
          shape: "dropbox",
          errorName: "exceeded_rate",
          errorMsg: "Rate limit exceeded",
          headers: fault.retryAfter === undefined && fault.resetAfter !== undefined ?
            {
              "x-ratelimit-limit": String(context.limit),
              "x-ratelimit-remaining": "0",
              "x-ratelimit-reset": String(Math.ceil(now / 1000) + fault.resetAfter)
            } :
            { "retry-after": String(fault.retryAfter ?? 1) }
        }))
    case "TruncatedJson":
      return Effect.map(normal, truncate)
    case "WrongContentType":
      return Effect.map(normal, (reply) => ({ ...reply, contentType: "text/plain" }))
    case "HtmlPage": {
      const status = fault.status ?? 502
      return Effect.succeed(Reply.raw(status, proxyPage(status), Reply.htmlContentType))
    }
    case "RawBody":
      return Effect.succeed(Reply.raw(fault.status, fault.body, fault.contentType ?? "text/plain"))
  }
}
