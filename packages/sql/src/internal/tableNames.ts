import { TokenError } from "@dropbox-sign-effect/oauth"
import { Either } from "effect"

/** @internal */
export const defaultTable = "dropbox_sign_tokens"

/** @internal */
export interface Names {
  /** The table, qualified by its schema when one is set: `schema.table` (the SQL compiler quotes each part). */
  readonly table: string
  /** The migrator's bookkeeping table, next to the token table. */
  readonly migrationsTable: string
  readonly schema: string | undefined
  /** Names the table in the refresh lock's key, so that stores on different tables never contend. */
  readonly lockNamespace: string
}

// Plain identifiers only: they are interpolated as quoted identifiers, and the migrations table appends a suffix, so
// the table name stays short enough for PostgreSQL's 63-byte limit.
const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/

const check = (kind: string, name: string, maxLength: number): Either.Either<string, TokenError.TokenStoreError> =>
  identifier.test(name) && name.length <= maxLength
    ? Either.right(name)
    : Either.left(
      new TokenError.TokenStoreError({
        operation: "configure",
        reason: `the ${kind} name "${name}" must be a plain SQL identifier ` +
          `(letters, digits and underscores, not starting with a digit) of at most ${maxLength} characters`
      })
    )

/** @internal */
export const resolve = (options: {
  readonly table?: string | undefined
  readonly schema?: string | undefined
}): Either.Either<Names, TokenError.TokenStoreError> =>
  Either.gen(function*() {
    const table = yield* check("table", options.table ?? defaultTable, 48)
    const schema = options.schema === undefined ? undefined : yield* check("schema", options.schema, 63)
    const qualify = (name: string) => schema === undefined ? name : `${schema}.${name}`
    return {
      table: qualify(table),
      migrationsTable: qualify(`${table}_migrations`),
      schema,
      lockNamespace: `dropbox-sign-effect/refresh-lock/${qualify(table)}`
    }
  })
