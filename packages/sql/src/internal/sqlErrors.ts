import { type AccountId, TokenError } from "@dropbox-sign-effect/oauth"
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

const lostConnectionCodes: ReadonlySet<string> = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT", "ECONNREFUSED"])

/**
 * Whether `error` says the connection is gone (the server terminated it, it was reset, the driver marked it broken)
 * rather than that the statement itself failed: the one kind of failure worth one more try on a fresh connection.
 * SQLSTATE class 08 is "connection exception"; class 57P is an administrator's, a crash's, a shutdown's or an idle
 * session timeout's termination.
 *
 * @internal
 */
export const isConnectionLost = (error: SqlError): boolean => {
  const code = stringProperty(error.cause, "code")
  if (code !== undefined) {
    // 25P03: the server ended an idle transaction (the lock's, while a refresh ran longer than
    // idle_in_transaction_session_timeout), and the connection with it.
    return code.startsWith("08") || code.startsWith("57P") || code === "25P03" || lostConnectionCodes.has(code)
  }
  const message = stringProperty(error.cause, "message") ?? ""
  // `pg` reports a client whose socket failed earlier, and a socket closed mid-query, without a code.
  return message.includes("not queryable") || message.includes("Connection terminated")
}

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
export const toStoreError =
  (operation: TokenError.StoreOperation, account?: AccountId.AccountId | undefined) => (error: SqlError) =>
    new TokenError.TokenStoreError({
      operation,
      ...(account === undefined ? {} : { account }),
      reason: describe(error)
    })
