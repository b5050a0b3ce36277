/**
 * Proof that secrets do not leak: captures everything an effect shows the outside world (log lines with their
 * annotations and causes, span names, attributes and events) and every printed form of a value, so a test can assert
 * that no canary secret appears in any of them.
 *
 * @since 0.1.0
 */
import * as util from "node:util"

import type { Tracer } from "effect"
import { Cause, Effect, HashMap, Inspectable, List, Logger, LogLevel, Tracer as EffectTracer } from "effect"

/**
 * What `capture` saw.
 *
 * @since 0.1.0
 * @category models
 */
export interface Captured {
  readonly logs: Array<string>
  readonly spans: Array<Tracer.Span>
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (): Captured => ({ logs: [], spans: [] })

const describeSpan = (span: Tracer.Span): string => {
  const events: ReadonlyArray<unknown> = "events" in span && Array.isArray(span.events) ? span.events : []
  return JSON.stringify({
    name: span.name,
    attributes: Object.fromEntries([...span.attributes].map(([key, value]) => [key, util.inspect(value)])),
    events: events.map((event) => util.inspect(event, { depth: 6 }))
  })
}

/**
 * Everything captured, as one string to search.
 *
 * @since 0.1.0
 * @category utils
 */
export const dump = (captured: Captured): string => [...captured.logs, ...captured.spans.map(describeSpan)].join("\n")

/**
 * Runs `effect` with a logger that records every level and a tracer that records every span.
 *
 * @since 0.1.0
 * @category utils
 */
export const capture = <A, E, R>(effect: Effect.Effect<A, E, R>, captured: Captured): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.tracer, (native) => {
    const tracer = EffectTracer.make({
      span: (...args) => {
        const span = native.span(...args)
        captured.spans.push(span)
        return span
      },
      context: (f, fiber) => native.context(f, fiber)
    })
    const logger = Logger.make(({ annotations, cause, logLevel, message, spans }) => {
      captured.logs.push([
        logLevel.label,
        util.inspect(message, { depth: 6 }),
        Cause.isEmpty(cause) ? "" : Cause.pretty(cause, { renderErrorCause: true }),
        Inspectable.format(HashMap.toEntries(annotations)),
        List.toArray(spans).map((span) => span.label).join(",")
      ].join(" "))
    })
    return effect.pipe(
      Effect.withTracer(tracer),
      Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
      Logger.withMinimumLogLevel(LogLevel.All)
    )
  })

/**
 * Every printed form of a value that could reach a log, a terminal or a serialised report: `String`,
 * `util.inspect`, `JSON.stringify`, Effect's `Inspectable.format`, and an error's message and stack.
 *
 * @since 0.1.0
 * @category utils
 */
export const printedForms = (value: unknown): ReadonlyArray<string> => [
  String(value),
  util.inspect(value, { depth: 10 }),
  JSON.stringify(value) ?? "",
  Inspectable.format(value),
  value instanceof Error ? `${value.message}\n${value.stack ?? ""}` : ""
]

/**
 * The canaries found in `text`; empty when none leaked.
 *
 * @since 0.1.0
 * @category utils
 */
export const leaks = (text: string, canaries: ReadonlyArray<string>): ReadonlyArray<string> =>
  canaries.filter((canary) => text.includes(canary))
