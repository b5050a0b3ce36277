/**
 * The token endpoint's rate limit: a fixed window whose `X-RateLimit-*` headers go on every token response, and which
 * answers 429 only when enforcement is on (otherwise only faults send 429s).
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"

/** One token request's place in the window. */
export interface Admission {
  /** Over the limit while enforcement is on: the request gets 429. */
  readonly refused: boolean
  readonly headers: Readonly<Record<string, string>>
}

/** The window of one fake. */
export interface RateLimit {
  readonly limit: number
  /** Counts one token request at `now` (epoch milliseconds). */
  readonly admit: (now: number) => Effect.Effect<Admission>
}

/** A window of `limit` requests per `window` (defaults: 100 per minute, not enforced). */
export const make = (options: {
  readonly limit?: number | undefined
  readonly window?: Duration.DurationInput | undefined
  readonly enforce?: boolean | undefined
} = {}): Effect.Effect<RateLimit> =>
  Effect.gen(function*() {
    const limit = options.limit ?? 100
    const windowMillis = Duration.toMillis(options.window ?? Duration.minutes(1))
    const enforce = options.enforce ?? false
    const current = yield* Ref.make({ start: Number.NEGATIVE_INFINITY, used: 0 })
    // Remaining counts down per token request and `X-Ratelimit-Reset` is the window's end.
    const admit = (now: number) =>
      Ref.modify(current, (window): readonly [Admission, { readonly start: number; readonly used: number }] => {
        const open = now >= window.start + windowMillis ? { start: now, used: 0 } : window
        const next = { ...open, used: open.used + 1 }
        return [{
          refused: enforce && next.used > limit,
          headers: {
            "x-ratelimit-limit": String(limit),
            "x-ratelimit-remaining": String(Math.max(0, limit - next.used)),
            "x-ratelimit-reset": String(Math.ceil((next.start + windowMillis) / 1000))
          }
        }, next]
      })
    return { limit, admit }
  })
