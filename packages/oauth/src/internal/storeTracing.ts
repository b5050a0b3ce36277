import { Effect } from "effect"

import type { Service } from "../TokenStore.js"

/**
 * Runs every operation of a store in a span named `TokenStore.<operation>`, with the store's kind, the account
 * (never a token) and `extra` attributes.
 *
 * @internal
 */
export const withSpans = (
  kind: string,
  service: Service,
  extra: Readonly<Record<string, string>> = {}
): Service => {
  const attributes = (account?: string) =>
    account === undefined
      ? { "dropbox_sign.token_store": kind, ...extra }
      : { "dropbox_sign.token_store": kind, ...extra, "dropbox_sign.account": account }
  return {
    get: (account) => Effect.withSpan(service.get(account), "TokenStore.get", { attributes: attributes(account) }),
    set: (account, token, options) =>
      Effect.withSpan(service.set(account, token, options), "TokenStore.set", {
        attributes: { ...attributes(account), "dropbox_sign.expected_version": options.expectedVersion ?? "none" }
      }),
    delete: (account) =>
      Effect.withSpan(service.delete(account), "TokenStore.delete", { attributes: attributes(account) }),
    list: Effect.withSpan(service.list, "TokenStore.list", { attributes: attributes() }),
    // Covers the wait for the lock and the work under it, which shows how long refreshes queue behind each other.
    withRefreshLock: (account, effect) =>
      Effect.withSpan(service.withRefreshLock(account, effect), "TokenStore.withRefreshLock", {
        attributes: attributes(account)
      }),
    sharedRefreshLock: service.sharedRefreshLock
  }
}
