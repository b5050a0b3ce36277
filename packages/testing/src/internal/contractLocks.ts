/**
 * The contract's tests of `withRefreshLock`: what it returns, that it serializes holders of one account and only of
 * that account, and that an interrupted holder or waiter releases it.
 */
import { expect } from "@effect/vitest"
import { Array as Arr, Deferred, Effect, Exit, Fiber, Ref } from "effect"

import { account, other, type StoreTest } from "./contractFixtures.js"

/**
 * Registers the lock tests with `test`. `settle` lets a fiber that should now be waiting for the lock reach it.
 */
export const lockTests = (test: StoreTest, settle: Effect.Effect<void>): void => {
  test("withRefreshLock returns the effect's value and its typed failure", (store) =>
    Effect.gen(function*() {
      expect(yield* store.withRefreshLock(account, Effect.succeed(42))).toBe(42)
      expect(yield* Effect.flip(store.withRefreshLock(account, Effect.fail("boom" as const)))).toBe("boom")
      // The failure released the lock.
      expect(yield* store.withRefreshLock(account, Effect.succeed("again"))).toBe("again")
    }))

  test("withRefreshLock serializes two holders of one account", (store) =>
    Effect.gen(function*() {
      const log = yield* Ref.make<ReadonlyArray<string>>([])
      const append = (line: string) => Ref.update(log, Arr.append(line))
      const firstEntered = yield* Deferred.make<void>()
      const releaseFirst = yield* Deferred.make<void>()
      const first = yield* Effect.fork(store.withRefreshLock(
        account,
        append("first: in").pipe(
          Effect.zipRight(Deferred.succeed(firstEntered, undefined)),
          Effect.zipRight(Deferred.await(releaseFirst)),
          Effect.zipRight(append("first: out"))
        )
      ))
      yield* Deferred.await(firstEntered)
      const second = yield* Effect.fork(store.withRefreshLock(account, append("second: in")))
      yield* settle
      expect(yield* Ref.get(log)).toStrictEqual(["first: in"])
      yield* Deferred.succeed(releaseFirst, undefined)
      yield* Fiber.join(first)
      yield* Fiber.join(second)
      expect(yield* Ref.get(log)).toStrictEqual(["first: in", "first: out", "second: in"])
    }))

  test("withRefreshLock does not block other accounts", (store) =>
    Effect.gen(function*() {
      const firstEntered = yield* Deferred.make<void>()
      const releaseFirst = yield* Deferred.make<void>()
      const first = yield* Effect.fork(store.withRefreshLock(
        account,
        Deferred.succeed(firstEntered, undefined).pipe(Effect.zipRight(Deferred.await(releaseFirst)))
      ))
      yield* Deferred.await(firstEntered)
      // Would hang (and time out) if `other` shared the lock of `account`.
      expect(yield* store.withRefreshLock(other, Effect.succeed("other"))).toBe("other")
      yield* Deferred.succeed(releaseFirst, undefined)
      yield* Fiber.join(first)
    }))

  test("an interrupted holder or waiter does not keep the lock", (store) =>
    Effect.gen(function*() {
      const holderEntered = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(
        store.withRefreshLock(account, Effect.zipRight(Deferred.succeed(holderEntered, undefined), Effect.never))
      )
      yield* Deferred.await(holderEntered)
      const waiter = yield* Effect.fork(store.withRefreshLock(account, Effect.succeed("waiter")))
      yield* settle
      yield* Fiber.interrupt(waiter)
      yield* Fiber.interrupt(holder)
      expect(Exit.isInterrupted(yield* Fiber.await(holder))).toBe(true)
      expect(yield* store.withRefreshLock(account, Effect.succeed("next"))).toBe("next")
    }))
}
