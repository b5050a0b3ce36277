import { Effect, HashMap, Option, SynchronizedRef } from "effect"

/** @internal */
export interface KeyedLocks {
  readonly withLock: <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/**
 * One single-permit `Semaphore` per key, created on first use. Semaphores are kept for the life of the store: one per
 * account the process has refreshed, which is small, and dropping them would race with a waiter about to acquire.
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
