/**
 * Identifies a connected Dropbox Sign account within the application.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * A non-empty, branded account identifier chosen by the application (a user id, a tenant id, an email...).
 *
 * @since 0.1.0
 * @category models
 */
export const AccountId = Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(255), Schema.brand("AccountId"))

/**
 * @since 0.1.0
 * @category models
 */
export type AccountId = typeof AccountId.Type

/**
 * Makes an `AccountId`, throwing on an empty id: for literals in application code.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (id: string): AccountId => AccountId.make(id)

/**
 * The account used when a single-account application does not name one.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultAccount: AccountId = AccountId.make("default")
