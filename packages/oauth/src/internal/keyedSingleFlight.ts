import type { Exit, Scope } from "effect"
import { Deferred, Effect, FiberSet, Option } from "effect"

/**
 * At most one run per key at a time: the first caller starts the work in the background and every caller that
 * arrives while it runs shares its result.
 *
 * @internal
 */
export interface KeyedSingleFlight<K, A, E> {
  /**
   * The result of the run in flight for `key`, or of `effect()`, started now in the owner's scope (so that no
   * caller's interruption cancels it half-way). Awaiting it is the caller's choice: a stale-while-revalidate caller
   * does not. `effect` is made only when a run starts: joining one builds nothing.
   */
  readonly run: (key: K, effect: () => Effect.Effect<A, E>) => Effect.Effect<Deferred.Deferred<A, E>>
  /**
   * Waiting for the run in flight for `key`, read synchronously: an effect made once per run, so that the thousands
   * of callers of a storm join it without a step, or an allocation, of their own.
   */
  readonly inFlight: (key: K) => Effect.Effect<A, E> | undefined
}

interface Run<A, E> {
  readonly deferred: Deferred.Deferred<A, E>
  readonly wait: Effect.Effect<A, E>
}

/**
 * Runs are forked into a `FiberSet` of the scope: closing the scope interrupts them, and every caller waiting on one
 * then sees its interruption rather than waiting forever.
 *
 * The registry is a plain `Map`, written only here; every check-and-set below happens inside one synchronous step, so
 * fibers cannot interleave within it.
 *
 * @internal
 */
export const make = <K, A, E>(): Effect.Effect<KeyedSingleFlight<K, A, E>, never, Scope.Scope> =>
  Effect.map(FiberSet.make<A, E>(), (fibers) => {
    const running = new Map<K, Run<A, E>>()

    const launch = (key: K, effect: () => Effect.Effect<A, E>) =>
      Effect.uninterruptible(Effect.flatMap(Deferred.make<A, E>(), (deferred) =>
        Effect.suspend(() => {
          const raced = running.get(key)
          if (raced !== undefined) return Effect.succeed(raced.deferred)
          const run: Run<A, E> = { deferred, wait: Deferred.await(deferred) }
          running.set(key, run)
          // Removes this run only (never a later one), so that settling twice is harmless.
          const settle = (exit: Exit.Exit<A, E>) =>
            Effect.suspend(() => {
              if (running.get(key) === run) running.delete(key)
              return Deferred.done(deferred, exit)
            })
          // Interruptible again: forked here, the run would inherit `launch`'s uninterruptible region, and then neither
          // a timeout inside it nor the closing of the scope could end it.
          return FiberSet.run(fibers, Effect.onExit(Effect.interruptible(effect()), settle)).pipe(
            // Once the scope has closed the set runs nothing and hands back an interrupted fiber: settle with its
            // exit, or every caller would wait forever.
            Effect.flatMap((fiber) => fiber.poll),
            Effect.flatMap(Option.match({ onNone: () => Effect.void, onSome: (exit) => Effect.asVoid(settle(exit)) })),
            Effect.as(deferred)
          )
        })))

    return {
      run: (key, effect) =>
        Effect.suspend(() => {
          const existing = running.get(key)
          return existing === undefined ? launch(key, effect) : Effect.succeed(existing.deferred)
        }),
      inFlight: (key) => running.get(key)?.wait
    }
  })
