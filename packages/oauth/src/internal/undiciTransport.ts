/**
 * The lean transport: one `Effect.async` per attempt, straight on an undici `Dispatcher`, with no request or response
 * objects in between. Interrupting the fiber aborts the request; the per-attempt timeout is a timer that aborts it
 * too (wall-clock time, as undici's own timeouts are), not a fiber. Nothing follows redirects: a plain dispatcher hands
 * every answer back as it is.
 */
import { Duration, Effect } from "effect"
import type { Dispatcher } from "undici"

import type { TransportError } from "../OAuthError.js"
import { BoundedBody } from "./boundedBody.js"
import type { Transport, TransportSettings } from "./oauthApi.js"
import type { RawResponse } from "./tokenResponse.js"
import * as transport from "./transport.js"

type Headers = Readonly<Record<string, string | ReadonlyArray<string> | undefined>>

const maxTimerMillis = 2 ** 31 - 1

/** Why we abort a request ourselves; never surfaces (the attempt has settled by then). Made once: no stack per abort. */
const abandoned = new Error("request abandoned by dropbox-sign-effect")

const firstValue = (headers: Headers) => (name: string): string | undefined => {
  const value = headers[name]
  return typeof value === "string" ? value : value?.[0]
}

/**
 * One attempt, as the handler undici calls back. It settles once: with the answer, a transport error, or the timeout;
 * whatever undici reports afterwards (the abort we asked for) is ignored.
 */
class Attempt implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined = undefined
  private settled = false
  private status = 0
  private headers: Headers = {}
  private body: BoundedBody | undefined = undefined
  private timer: ReturnType<typeof setTimeout> | undefined = undefined

  constructor(
    private readonly resume: (effect: Effect.Effect<RawResponse, TransportError>) => void,
    private readonly limit: number
  ) {}

  start(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions, timeoutMillis: number | undefined): void {
    if (timeoutMillis !== undefined) this.timer = setTimeout(this.onTimeout, timeoutMillis)
    dispatcher.dispatch(options, this)
  }

  /** Interruption: abort, and resume nobody. */
  cancel(): void {
    if (this.settled) return
    this.settled = true
    clearTimeout(this.timer)
    this.controller?.abort(abandoned)
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // Called right before the request is written: settled already (timed out or interrupted while connecting), it is
    // aborted here and never sent.
    if (this.settled) return controller.abort(abandoned)
    this.controller = controller
  }

  onResponseStart(_: Dispatcher.DispatchController, statusCode: number, headers: Headers): void {
    if (statusCode < 200) return
    this.status = statusCode
    this.headers = headers
    this.body = new BoundedBody(this.limit)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Uint8Array): void {
    if (this.settled || this.body === undefined || this.body.push(chunk)) return
    // Past the size limit: what was read is enough to classify the answer, the rest is never read.
    this.succeed(this.body)
    controller.abort(abandoned)
  }

  onResponseEnd(): void {
    if (this.body !== undefined) this.succeed(this.body)
  }

  onResponseError(_: Dispatcher.DispatchController | undefined, error: Error): void {
    if (this.settled) return
    this.settle(Effect.fail(
      this.body === undefined
        ? transport.fromCause(error, this.controller !== undefined)
        : transport.bodyInterrupted(error)
    ))
  }

  private succeed(body: BoundedBody): void {
    this.settle(Effect.succeed({
      status: this.status,
      header: firstValue(this.headers),
      body: body.text,
      truncated: body.truncated
    }))
  }

  private settle(effect: Effect.Effect<RawResponse, TransportError>): void {
    if (this.settled) return
    this.settled = true
    clearTimeout(this.timer)
    this.resume(effect)
  }

  private readonly onTimeout = (): void => {
    if (this.settled) return
    // Before `onRequestStart` nothing was written, and nothing will be: `onRequestStart` aborts it.
    this.settle(Effect.fail(transport.timedOut(this.controller === undefined ? "NotSent" : "Unknown")))
    this.controller?.abort(abandoned)
  }
}

export const make = (dispatcher: Dispatcher, settings: TransportSettings): Transport => {
  const millis = Math.max(1, Math.ceil(Duration.toMillis(settings.requestTimeout)))
  // Beyond a timer's range (about 24.8 days, `Duration.infinity` included) there is no timeout at all.
  const timeoutMillis = millis <= maxTimerMillis ? millis : undefined
  const headers = {
    accept: "application/json",
    "content-type": "application/json",
    "user-agent": settings.userAgent
  }
  return (url) => {
    const { origin, pathname, search } = new URL(url)
    const path = pathname + search
    return (json) =>
      Effect.async<RawResponse, TransportError>((resume) => {
        const attempt = new Attempt(resume, settings.maxResponseBytes)
        attempt.start(dispatcher, { origin, path, method: "POST", headers, body: json }, timeoutMillis)
        return Effect.sync(() => attempt.cancel())
      })
  }
}

/** An undici `Agent` of our own, loaded on first use (the generic transport never loads undici), closed with the scope. */
export const ownAgent = Effect.acquireRelease(
  Effect.promise(() => import("undici")).pipe(Effect.map((undici): Dispatcher => new undici.Agent())),
  (agent) => Effect.promise(() => agent.destroy())
)
