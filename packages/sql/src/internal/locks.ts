import { Effect, HashMap, Option, SynchronizedRef } from "effect"

/** @internal */
export interface KeyedLocks {
  readonly withLock: <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/**
 * One single-permit semaphore per key, created on first use and kept for the store's life (one per account this
 * process refreshed; dropping them would race with a waiter about to acquire). Fibers of one process queue here, so
 * that a process holds at most one database connection per account for its refresh lock.
 *
 * @internal
 */
export const make: Effect.Effect<KeyedLocks> = Effect.map(
  SynchronizedRef.make(HashMap.empty<string, Effect.Semaphore>()),
  (ref) => {
    const semaphore = (key: string) =>
      SynchronizedRef.modifyEffect(ref, (locks) =>
        Option.match(HashMap.get(locks, key), {
          onSome: (existing) => Effect.succeed([existing, locks] as const),
          onNone: () =>
            Effect.map(Effect.makeSemaphore(1), (created) => [created, HashMap.set(locks, key, created)] as const)
        }))
    return {
      withLock: (key, effect) => Effect.flatMap(semaphore(key), (lock) => lock.withPermits(1)(effect))
    }
  }
)
