/**
 * `SqlTokenStore`: the token store of `@dropbox-sign-effect/oauth` in PostgreSQL or SQLite, with a refresh lock shared
 * by every process, and its migrations.
 *
 * @since 0.1.0
 */

/**
 * A `TokenStore` in PostgreSQL or SQLite through `@effect/sql`: compare-and-set in one statement, and on PostgreSQL a
 * refresh lock that holds across every process sharing the database, so that a fleet refreshes each account once.
 *
 * @since 0.1.0
 */
export * as SqlTokenStore from "./SqlTokenStore.js"

/**
 * The schema of `SqlTokenStore`: `@effect/sql` migrations for PostgreSQL and SQLite, run with the `@effect/sql`
 * migrator into a bookkeeping table of their own, so that they never mix with the application's migrations.
 *
 * @since 0.1.0
 */
export * as SqlTokenStoreMigrations from "./SqlTokenStoreMigrations.js"
