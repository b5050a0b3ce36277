/**
 * The assertion the store tests share: an operation fails with `TokenStoreError`, says why, and shows no secret.
 */
import * as TokenStoreContract from "@dropbox-sign-effect/testing/TokenStoreContract"
import { expect } from "@effect/vitest"
import { Effect } from "effect"

const canaries = Object.values(TokenStoreContract.canary)

export const expectStoreError = <A, E extends { readonly _tag: string; readonly message: string }, R>(
  effect: Effect.Effect<A, E, R>,
  reason: string
) =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(effect)
    expect(error._tag).toBe("TokenStoreError")
    expect(error.message).toContain(reason)
    for (const canary of canaries) expect(error.message).not.toContain(canary)
    return error
  })
