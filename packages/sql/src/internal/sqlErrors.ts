import { TokenError } from "@dropbox-sign-effect/oauth"
import type { SqlError } from "@effect/sql/SqlError"
import { Predicate } from "effect"

const stringProperty = (value: unknown, key: string): string | undefined =>
  Predicate.hasProperty(value, key) && typeof value[key] === "string" ? value[key] : undefined

const isSqlState = (code: string): boolean => /^[0-9A-Z]{5}$/.test(code)

/**
 * The SQLSTATE of a PostgreSQL error (`pg`'s `DatabaseError.code`), if the cause is one.
 *
 * @internal
 */
export const sqlState = (error: SqlError): string | undefined => {
  const code = stringProperty(error.cause, "code")
  return code !== undefined && isSqlState(code) ? code : undefined
}

/** @internal */
export const lockTimeoutState = "55P03"

const missingTable = "the token table does not exist: run the migrations first " +
  "(SqlTokenStoreMigrations.run, or SqlTokenStore.layerWithMigrations)"

/**
 * Why a statement failed, in words safe to log: no parameter value ever appears. PostgreSQL quotes the offending value
 * in the message of a data exception (SQLSTATE class 22, e.g. `invalid input syntax for type json: "…"`), and the
 * value may be a token, so those keep only their SQLSTATE; other messages name objects, not values.
 *
 * @internal
 */
export const describe = (error: SqlError): string => {
  const code = stringProperty(error.cause, "code")
  const message = stringProperty(error.cause, "message")
  if (code !== undefined && isSqlState(code)) {
    if (code === "42P01") return `${missingTable} (SQLSTATE ${code})`
    if (code.startsWith("22")) return `the database rejected a value (SQLSTATE ${code})`
    if (code.startsWith("08") || code.startsWith("57P")) {
      return `the database connection failed (SQLSTATE ${code}${message === undefined ? "" : `: ${message}`})`
    }
    return `${message ?? error.message} (SQLSTATE ${code})`
  }
  if (code !== undefined && code.startsWith("SQLITE_")) {
    if (message !== undefined && message.startsWith("no such table")) return `${missingTable} (${code})`
    return `${message ?? error.message} (${code})`
  }
  if (code !== undefined) {
    // A system error of the socket: ECONNREFUSED, ECONNRESET, ETIMEDOUT…
    return `the database is unreachable (${code}${message === undefined ? "" : `: ${message}`})`
  }
  return message === undefined ? error.message : `${error.message}: ${message}`
}

/**
 * Translates a foreign `SqlError` at the store's boundary.
 *
 * @internal
 */
export const toStoreError = (operation: string, account?: string | undefined) => (error: SqlError) =>
  new TokenError.TokenStoreError({
    operation,
    ...(account === undefined ? {} : { account }),
    reason: describe(error)
  })
