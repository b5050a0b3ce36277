/**
 * Captures everything an effect leaks to the outside: log lines (with annotations and spans), span names,
 * attributes and events. Tests assert that no canary secret appears in any of it.
 */
import * as util from "node:util"

import type { Tracer } from "effect"
import { Cause, Effect, HashMap, Inspectable, List, Logger, LogLevel, Tracer as EffectTracer } from "effect"

export interface Captured {
  readonly logs: Array<string>
  readonly spans: Array<Tracer.Span>
}

const describeSpan = (span: Tracer.Span): string => {
  const events = "events" in span && Array.isArray(span.events) ? span.events : []
  return JSON.stringify({
    name: span.name,
    attributes: Object.fromEntries([...span.attributes].map(([key, value]) => [key, String(value)])),
    events: events.map((event) => util.inspect(event, { depth: 6 }))
  })
}

/** Everything captured, as one string to search. */
export const dump = (captured: Captured): string => [...captured.logs, ...captured.spans.map(describeSpan)].join("\n")

/** Runs `effect` with a capturing logger (at every level) and a capturing tracer. */
export const capture = <A, E, R>(effect: Effect.Effect<A, E, R>, captured: Captured) =>
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

export const make = (): Captured => ({ logs: [], spans: [] })

/** Every printed form of a value that could reach a log, a terminal or a serialised report. */
export const printedForms = (value: unknown): ReadonlyArray<string> => [
  String(value),
  util.inspect(value, { depth: 10 }),
  JSON.stringify(value) ?? "",
  Inspectable.format(value),
  value instanceof Error ? `${value.message}\n${value.stack ?? ""}` : ""
]
