import { type AccountId, TokenError, TokenStoreKit } from "@dropbox-sign-effect/oauth"
import * as SqlClient from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import type { SqlError } from "@effect/sql/SqlError"
import { Duration, Effect, ExecutionStrategy, Exit, FiberRef, Option, Ref, Scope } from "effect"

import * as internalErrors from "./sqlErrors.js"

/**
 * How the store runs its statements, and its refresh lock.
 *
 * @internal
 */
export interface RefreshLock {
  /**
   * Runs a statement on the connection of the refresh lock this fiber holds, otherwise on the pool. A connection
   * found dead is given up and the statement runs once more on a fresh pooled connection.
   */
  readonly execute: <A>(statement: Effect.Effect<A, SqlError>) => Effect.Effect<A, SqlError>
  /**
   * A write: as `execute`, and when it ran under the lock and `landed` says it changed the row, the lock's transaction
   * commits at once, so that the write is durable whatever happens to the connection next (the lock ends with it: the
   * write is the last step of every locked section). If the commit cannot be confirmed the write is tried again on the
   * pool with the same compare-and-set, which either lands or reports the version that did.
   */
  readonly executeWrite: <A>(statement: Effect.Effect<A, SqlError>, landed: (result: A) => boolean) => Effect.Effect<
    A,
    SqlError
  >
  readonly withLock: <A, E, R>(
    account: AccountId.AccountId,
    effect: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | TokenError.TokenStoreError, R>
}

/**
 * The refresh lock held by this fiber (and the fibers it forks, which run one at a time: the locked section is
 * sequential): its connection, whether it is still held, and how to hand the connection back to the pool.
 */
interface Lease {
  readonly connection: Connection
  readonly held: Ref.Ref<boolean>
  readonly release: Effect.Effect<void>
}

const onConnection = <A>(sql: SqlClient.SqlClient, connection: Connection, statement: Effect.Effect<A, SqlError>) =>
  Effect.provideService(statement, SqlClient.TransactionConnection, [connection, 0])

/** One more try, on a fresh connection, for a statement whose connection was found dead. */
const onceMoreIfConnectionLost = <A>(statement: Effect.Effect<A, SqlError>) =>
  Effect.catchIf(statement, internalErrors.isConnectionLost, () => statement)

/**
 * SQLite serves one process: the lock is in-process and statements run as they are.
 *
 * @internal
 */
export const makeInProcess: Effect.Effect<RefreshLock> = Effect.map(TokenStoreKit.makeKeyedLocks, (locks) => ({
  execute: onceMoreIfConnectionLost,
  executeWrite: (statement) => onceMoreIfConnectionLost(statement),
  withLock: (account, effect) => locks.withLock(account, effect)
}))

/**
 * PostgreSQL: a connection of its own from the pool, `BEGIN`, `SET LOCAL lock_timeout`, and
 * `pg_advisory_xact_lock(hashtext(namespace), hashtext(account))`. The transaction ends at the first write under the
 * lock (see `executeWrite`) or when the effect ends, and PostgreSQL releases the lock with it, or with the connection if
 * the process dies. Fibers of one process queue on an in-process lock first, so that a process holds at most one
 * connection per account for locking.
 *
 * @internal
 */
export const makePostgres = (
  sql: SqlClient.SqlClient,
  lockNamespace: string,
  lockTimeout: Duration.Duration
): Effect.Effect<RefreshLock> =>
  Effect.gen(function*() {
    const locks = yield* TokenStoreKit.makeKeyedLocks
    const currentLease = yield* Effect.sync(() => FiberRef.unsafeMake(Option.none<Lease>()))
    const lockTimeoutMillis = Math.max(1, Math.ceil(Duration.toMillis(lockTimeout)))
    const on = <A>(connection: Connection, statement: Effect.Effect<A, SqlError>) =>
      onConnection(sql, connection, statement)
    // An interruption's cancel request (which `@effect/sql-pg` sends through another connection, asynchronously) may
    // land on the commit: try it again then, but not on a connection that is gone.
    const commit = (connection: Connection) =>
      Effect.retry(on(connection, sql`COMMIT`), { times: 2, while: (error) => !internalErrors.isConnectionLost(error) })

    const heldLease = Effect.flatMap(FiberRef.get(currentLease), (lease) =>
      Option.isNone(lease)
        ? Effect.succeedNone
        : Effect.map(Ref.get(lease.value.held), (held) => held ? lease : Option.none<Lease>()))

    // The connection goes back to the pool as soon as the lease ends, not when the locked section does: with a small
    // pool the section's remaining statements need it (a pool of one would wait for itself).
    const giveUp = (lease: Lease) => Effect.zipRight(Ref.set(lease.held, false), lease.release)

    /** Runs on the lease; a dead connection gives the lease up (PostgreSQL has released the lock with it). */
    const onLease = <A>(
      lease: Lease,
      statement: Effect.Effect<A, SqlError>,
      then: (result: A) => Effect.Effect<A, SqlError>
    ) =>
      Effect.flatMap(on(lease.connection, statement), then).pipe(
        Effect.catchIf(
          internalErrors.isConnectionLost,
          () => Effect.zipRight(giveUp(lease), onceMoreIfConnectionLost(statement))
        )
      )

    const execute = <A>(statement: Effect.Effect<A, SqlError>): Effect.Effect<A, SqlError> =>
      Effect.flatMap(heldLease, (lease) =>
        Option.isNone(lease)
          ? onceMoreIfConnectionLost(statement)
          : onLease(lease.value, statement, Effect.succeed))

    const executeWrite = <A>(statement: Effect.Effect<A, SqlError>, landed: (result: A) => boolean) =>
      Effect.flatMap(heldLease, (lease) =>
        Option.isNone(lease)
          ? onceMoreIfConnectionLost(statement)
          : onLease(lease.value, statement, (result) =>
            landed(result)
              ? Effect.zipRight(Ref.set(lease.value.held, false), commit(lease.value.connection)).pipe(
                Effect.ensuring(lease.value.release),
                Effect.as(result)
              )
              : Effect.succeed(result)))

    const acquire = (connection: Connection, account: AccountId.AccountId) =>
      on(
        connection,
        sql`BEGIN`.pipe(
          Effect.zipRight(sql`SELECT set_config('lock_timeout', ${`${lockTimeoutMillis}ms`}, true)`),
          Effect.zipRight(sql`SELECT pg_advisory_xact_lock(hashtext(${lockNamespace}), hashtext(${account}))`)
        )
      ).pipe(
        // A failed or interrupted lock wait leaves its transaction open (aborted, or even holding the lock, if it was
        // granted just before the interruption): end it before the connection goes back to the pool. `onExit` runs
        // uninterruptibly; `@effect/sql-pg` queues the rollback behind a query it is cancelling.
        Effect.onExit((exit) => Exit.isSuccess(exit) ? Effect.void : Effect.ignore(on(connection, sql`ROLLBACK`)))
      )

    /**
     * A connection holding the lock, in a scope of its own under `scope`: a connection found dead (the pool hands out
     * one the server has just terminated) is released at once and the lock is taken once more on a fresh one.
     */
    const openLease = (scope: Scope.Scope, account: AccountId.AccountId) =>
      Effect.flatMap(Scope.fork(scope, ExecutionStrategy.sequential), (leaseScope) => {
        const release = Scope.close(leaseScope, Exit.void)
        return Effect.gen(function*() {
          // Uninterruptible: `@effect/sql-pg` would leak a pool connection handed out after its waiter left.
          const connection = yield* Scope.extend(Effect.uninterruptible(sql.reserve), leaseScope)
          yield* acquire(connection, account)
          return { connection, held: yield* Ref.make(true), release }
        }).pipe(Effect.onError(() => release))
      }).pipe(
        Effect.retry({ times: 1, while: internalErrors.isConnectionLost }),
        Effect.mapError((error) =>
          internalErrors.sqlState(error) === internalErrors.lockTimeoutState
            ? new TokenError.TokenStoreError({
              operation: "lock",
              account,
              reason: `timed out after ${
                Duration.format(Duration.millis(lockTimeoutMillis))
              } waiting for the refresh lock, which another process holds`
            })
            : internalErrors.toStoreError("lock", account)(error)
        )
      )

    const withLock: RefreshLock["withLock"] = (account, effect) =>
      locks.withLock(
        account,
        Effect.scoped(Effect.uninterruptibleMask((restore) =>
          Effect.gen(function*() {
            const lease = yield* restore(openLease(yield* Effect.scope, account))
            const exit = yield* Effect.exit(restore(Effect.locally(effect, currentLease, Option.some(lease))))
            if (yield* Ref.getAndSet(lease.held, false)) {
              // Nothing was written under the lock (a write commits at once), so a failed commit loses nothing.
              const committed = yield* Effect.exit(commit(lease.connection))
              if (Exit.isFailure(committed)) {
                yield* Effect.logDebug("SqlTokenStore: the refresh lock's transaction ended with its connection")
                  .pipe(Effect.annotateLogs({ account }))
              }
            }
            yield* lease.release
            return yield* exit
          })
        ))
      )

    return { execute, executeWrite, withLock }
  })
