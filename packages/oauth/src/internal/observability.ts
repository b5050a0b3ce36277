/**
 * The token endpoint's metrics and spans, at a cost only where someone looks: every metric a request updates is
 * resolved once, and spans are made only when a tracer that exports them is installed.
 */
import type { MetricKeyType, MetricState, Tracer as EffectTracer } from "effect"
import { Context, DefaultServices, Duration, Effect, Metric, MetricBoundaries, MetricKey, Tracer } from "effect"

import type { OAuthError } from "../OAuthError.js"

export type Operation = "oauthTokenGenerate" | "oauthTokenRefresh"

export type Outcome = OAuthError["_tag"] | "ok"

const requestsKey = MetricKey.counter("dropbox_sign_oauth_requests_total", {
  description: "Token endpoint attempts, tagged by operation and outcome",
  incremental: true
})

export const requestsTotal: Metric.Metric.Counter<number> = Metric.fromMetricKey(requestsKey)

// One boundaries value for every key of the timer: histogram keys compare their boundaries by reference.
const durationKey = MetricKey.histogram(
  "dropbox_sign_oauth_request_duration",
  MetricBoundaries.fromIterable([10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000])
).pipe(MetricKey.tagged("time_unit", "milliseconds"))

/** What `Metric.timerWithBoundaries` builds, on a key the per-operation timers can share. */
export const requestDuration: Metric.Metric<
  MetricKeyType.MetricKeyType.Histogram,
  Duration.Duration,
  MetricState.MetricState.Histogram
> = Metric.mapInput(Metric.fromMetricKey(durationKey), (duration: Duration.Duration) => Duration.toMillis(duration))

/** The metrics of one operation. */
export interface OperationMetrics {
  readonly counters: Readonly<Record<Outcome, Metric.Metric.Counter<number>>>
  readonly duration: typeof requestDuration
}

/**
 * The metrics of `operation`, each built on its fully tagged key. They are the same metrics as
 * `requestsTotal.pipe(Metric.tagged("operation", …), Metric.tagged("outcome", …))` and
 * `requestDuration.pipe(Metric.tagged("operation", …))` (same keys, labels in the same order), but `Metric.tagged`
 * rebuilds and hashes its key on every update, a tenth of a request's CPU time in the benchmarks.
 */
export const operationMetrics = (operation: Operation): OperationMetrics => {
  const counter = (outcome: Outcome) =>
    Metric.fromMetricKey(
      requestsKey.pipe(MetricKey.tagged("operation", operation), MetricKey.tagged("outcome", outcome))
    )
  return {
    counters: {
      ok: counter("ok"),
      OAuthApiError: counter("OAuthApiError"),
      RateLimitedError: counter("RateLimitedError"),
      ServerError: counter("ServerError"),
      TransportError: counter("TransportError"),
      ResponseDecodeError: counter("ResponseDecodeError")
    },
    duration: Metric.mapInput(
      Metric.fromMetricKey(durationKey.pipe(MetricKey.tagged("operation", operation))),
      (duration: Duration.Duration) => Duration.toMillis(duration)
    )
  }
}

/** Effect's built-in tracer: it keeps spans in memory and exports nothing. */
const nativeTracer: EffectTracer.Tracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

/**
 * `traced()` when a tracer other than Effect's built-in one is installed (any exporter installs its own), `untraced`
 * otherwise: with the built-in tracer nobody can read a span, and making one costs more than a token request's
 * decoding.
 */
export const whenTraced = <A, E, R>(
  traced: () => Effect.Effect<A, E, R>,
  untraced: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => Effect.tracerWith((tracer) => tracer === nativeTracer ? untraced : traced())
