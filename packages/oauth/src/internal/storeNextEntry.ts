import type { DateTime } from "effect"
import { Either } from "effect"

import type { AccountId } from "../AccountId.js"
import type { OAuthToken } from "../OAuthToken.js"
import { StaleTokenError } from "../TokenError.js"
import type { SetOptions, StoredToken } from "../TokenStore.js"

/**
 * The compare-and-set rule (documented on `TokenStoreKit.nextEntry`, which every store uses).
 *
 * @internal
 */
export const nextEntry = (
  account: AccountId,
  token: OAuthToken,
  options: SetOptions,
  actualVersion: number | null,
  updatedAt: DateTime.Utc
): Either.Either<StoredToken, StaleTokenError> =>
  actualVersion === options.expectedVersion ?
    Either.right({
      account,
      token,
      version: (options.expectedVersion ?? 0) + 1,
      status: options.status ?? "active",
      statusReason: options.statusReason,
      updatedAt
    }) :
    Either.left(new StaleTokenError({ account, expectedVersion: options.expectedVersion, actualVersion }))
