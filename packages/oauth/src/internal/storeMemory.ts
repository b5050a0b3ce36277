import { DateTime, Effect, Either, HashMap, Ref } from "effect"

import type { AccountId } from "../AccountId.js"
import type { Listing, Service, StoredToken } from "../TokenStore.js"
import * as Locks from "./storeLocks.js"
import { nextEntry } from "./storeNextEntry.js"
import { withSpans } from "./storeTracing.js"

/**
 * The in-memory store: compare-and-set is one atomic `Ref.modify`, the refresh lock a semaphore per account.
 *
 * @internal
 */
export const make: Effect.Effect<Service> = Effect.gen(function*() {
  type Entries = HashMap.HashMap<AccountId, StoredToken>
  const entries = yield* Ref.make<Entries>(HashMap.empty())
  const locks = yield* Locks.make
  const set: Service["set"] = (account, token, options) =>
    Effect.flatMap(DateTime.now, (updatedAt) =>
      Effect.flatten(Ref.modify(entries, (map) => {
        const current = HashMap.get(map, account)
        const next = nextEntry(
          account,
          token,
          options,
          current._tag === "Some" ? current.value.version : null,
          updatedAt
        )
        return [next, Either.isRight(next) ? HashMap.set(map, account, next.right) : map] as const
      })))
  return withSpans("memory", {
    get: (account) => Effect.map(Ref.get(entries), HashMap.get(account)),
    set,
    delete: (account) => Ref.update(entries, HashMap.remove(account)),
    list: Effect.map(
      Ref.get(entries),
      (map): Listing => ({ accounts: Array.from(HashMap.keys(map)).sort(), unreadable: [] })
    ),
    withRefreshLock: locks.withLock
  })
})
