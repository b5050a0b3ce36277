import { Duration, Option } from "effect"

/** What the rate-limit headers of a response say; every field is optional because every header is. */
export interface RateLimitInfo {
  readonly retryAfter: Duration.Duration
  readonly limit: number | undefined
  readonly remaining: number | undefined
  /** Unix seconds. */
  readonly reset: number | undefined
}

/** Used when a 429 advertises no wait at all. */
export const defaultRetryAfter = Duration.seconds(1)

/** Longest wait we accept from a header: anything beyond is a malformed or hostile value. */
const maxAdvertisedWait = Duration.hours(24)

const nonNegativeInteger = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (!/^\d{1,15}$/.test(trimmed)) return undefined
  return Number(trimmed)
}

/**
 * `Retry-After` is either delta-seconds or an HTTP date. Returns the wait from `nowMillis`, if the header is usable.
 */
export const parseRetryAfter = (value: string | undefined, nowMillis: number): Option.Option<Duration.Duration> => {
  if (value === undefined) return Option.none()
  const seconds = nonNegativeInteger(value)
  if (seconds !== undefined) return Option.some(Duration.seconds(seconds))
  if (!/[a-z]/i.test(value)) return Option.none()
  const date = Date.parse(value)
  if (Number.isNaN(date)) return Option.none()
  return Option.some(Duration.millis(Math.max(0, date - nowMillis)))
}

/**
 * Reads `Retry-After`, `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-Ratelimit-Reset` through `header`, which
 * takes a lower-case name (header names are case-insensitive). `Retry-After` wins; otherwise the wait runs until the
 * reset instant.
 */
export const parseRateLimit = (header: (name: string) => string | undefined, nowMillis: number): RateLimitInfo => {
  const reset = nonNegativeInteger(header("x-ratelimit-reset"))
  const fromRetryAfter = parseRetryAfter(header("retry-after"), nowMillis)
  const fromReset = reset === undefined ?
    Option.none<Duration.Duration>() :
    Option.some(Duration.millis(Math.max(0, reset * 1000 - nowMillis)))
  const retryAfter = Option.orElse(fromRetryAfter, () => fromReset).pipe(
    Option.map((wait) => Duration.min(wait, maxAdvertisedWait)),
    Option.getOrElse(() => defaultRetryAfter)
  )
  return {
    retryAfter,
    limit: nonNegativeInteger(header("x-ratelimit-limit")),
    remaining: nonNegativeInteger(header("x-ratelimit-remaining")),
    reset
  }
}
