/**
 * When and how the token operations retry. The *backoff* is a replaceable `Schedule`; *which* failures are retried
 * is fixed by safety: an authorization code is single-use, so a request is retried only when it certainly did not
 * take effect on the server.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Schedule } from "effect"

import type { OAuthError } from "./OAuthError.js"

/**
 * Exponential backoff from 250 ms, doubling, with jitter, each delay capped at 5 seconds; at most 4 retries
 * (5 attempts) and no retry once 30 seconds have passed.
 *
 * @since 0.1.0
 * @category schedules
 */
export const defaultSchedule: Schedule.Schedule<unknown, OAuthError> = Schedule.exponential("250 millis", 2).pipe(
  Schedule.jittered,
  Schedule.modifyDelay((_, delay) => Duration.min(delay, Duration.seconds(5))),
  Schedule.intersect(Schedule.recurs(4)),
  Schedule.upTo("30 seconds")
)

/**
 * Gateway statuses: the request did not reach the application behind the gateway, so it did not take effect.
 *
 * @since 0.1.0
 * @category constants
 */
export const retryableStatuses: ReadonlySet<number> = new Set([502, 503, 504])

/**
 * Whether `error` proves the request did not take effect, so sending it again cannot replay a single-use code or
 * rotate a refresh token twice: a connection that was never made, a 429, or a gateway 502/503/504.
 * A 500, a timeout or a reset after sending are outcome-unknown and never retried here.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isSafeToRetry = (error: OAuthError): boolean => {
  switch (error._tag) {
    case "TransportError":
      return error.outcome === "NotSent"
    case "RateLimitedError":
      return true
    case "ServerError":
      return retryableStatuses.has(error.status)
    default:
      return false
  }
}

/**
 * Adapts a backoff schedule so that after a 429 it waits at least what the server advertised.
 *
 * @since 0.1.0
 * @category schedules
 */
export const honourRateLimits = <Out, R>(
  schedule: Schedule.Schedule<Out, OAuthError, R>
): Schedule.Schedule<[OAuthError, Out], OAuthError, R> =>
  Schedule.intersect(Schedule.identity<OAuthError>(), schedule).pipe(
    Schedule.modifyDelay(([error], delay) =>
      error._tag === "RateLimitedError" ? Duration.max(delay, error.retryAfter) : delay
    )
  )

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly schedule: Schedule.Schedule<unknown, OAuthError>
  /** A 429 asking for a longer wait than this is returned at once. */
  readonly maxRateLimitWait: Duration.DurationInput
}

/**
 * Retries `effect` on the failures `isSafeToRetry` allows, spaced by `schedule` and by the server's rate limits.
 *
 * @since 0.1.0
 * @category combinators
 */
export const retry = <A, R>(
  effect: Effect.Effect<A, OAuthError, R>,
  options: Options
): Effect.Effect<A, OAuthError, R> => {
  const maxWait = Duration.decode(options.maxRateLimitWait)
  const shouldRetry = (error: OAuthError) =>
    isSafeToRetry(error) && !(error._tag === "RateLimitedError" && Duration.greaterThan(error.retryAfter, maxWait))
  const schedule = honourRateLimits(options.schedule)
  // The schedule starts only after a first retryable failure: a request that succeeds at once (nearly all of them)
  // pays for one `catchIf` rather than for starting a schedule. The first failure is replayed to `Effect.retry`, so the
  // schedule sees exactly the failures it would have seen from the start.
  return Effect.catchIf(effect, shouldRetry, (first) =>
    Effect.suspend(() => {
      let replayed = false
      const again = Effect.suspend(() => {
        if (replayed) return effect
        replayed = true
        return Effect.fail(first)
      })
      return Effect.retry(again, { schedule, while: shouldRetry })
    }))
}
