/**
 * An OpenTelemetry-style tracer for measuring what spans cost when someone exports them: each span gets random trace
 * and span ids (hex, as OpenTelemetry's `RandomIdGenerator` makes them), a high-resolution start and end, its own
 * attribute map, events and status, and on end is handed to a bounded queue as a `BatchSpanProcessor` would (2,048
 * spans, the default; the oldest are dropped, nothing is sent anywhere).
 */
import type { Context, Exit, Option } from "effect"
import { Tracer } from "effect"

const hex = (bytes: number) => {
  let out = ""
  for (let i = 0; i < bytes; i++) out += Math.floor(Math.random() * 256).toString(16).padStart(2, "0")
  return out
}

const queueSize = 2048

class Exported {
  readonly spans: Array<Tracer.Span> = []
  push(span: Tracer.Span) {
    if (this.spans.length >= queueSize) this.spans.shift()
    this.spans.push(span)
  }
}

class OtelStyleSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly spanId = hex(8)
  readonly traceId: string
  readonly sampled = true
  readonly attributes = new Map<string, unknown>()
  readonly events: Array<[string, bigint, Record<string, unknown> | undefined]> = []
  status: Tracer.SpanStatus
  links: Array<Tracer.SpanLink>

  constructor(
    readonly name: string,
    readonly parent: Option.Option<Tracer.AnySpan>,
    readonly context: Context.Context<never>,
    links: ReadonlyArray<Tracer.SpanLink>,
    startTime: bigint,
    readonly kind: Tracer.SpanKind,
    private readonly exported: Exported
  ) {
    this.traceId = parent._tag === "Some" ? parent.value.traceId : hex(16)
    this.links = [...links]
    this.status = { _tag: "Started", startTime }
  }

  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>): void {
    this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
    this.exported.push(this)
  }

  attribute(key: string, value: unknown): void {
    this.attributes.set(key, value)
  }

  event(name: string, startTime: bigint, attributes?: Record<string, unknown>): void {
    this.events.push([name, startTime, attributes])
  }

  addLinks(links: ReadonlyArray<Tracer.SpanLink>): void {
    this.links.push(...links)
  }
}

/** A new tracer with its own export queue. */
export const make = (): Tracer.Tracer => {
  const exported = new Exported()
  return Tracer.make({
    span: (name, parent, context, links, startTime, kind) =>
      new OtelStyleSpan(name, parent, context, links, startTime, kind, exported),
    context: (f) => f()
  })
}
