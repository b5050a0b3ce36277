import { TokenCipher } from "@dropbox-sign-effect/oauth"
import { SqlTokenStore, SqlTokenStoreMigrations } from "@dropbox-sign-effect/sql"
import * as TokenStoreContract from "@dropbox-sign-effect/testing/TokenStoreContract"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"

import * as Postgres from "./utils/postgres.js"

const key = TokenCipher.layer(Redacted.make("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"))

// A fresh in-memory database per test.
const sqlite = (encrypted: boolean) =>
  Layer.unwrapEffect(
    Effect.as(
      SqlTokenStoreMigrations.run(),
      encrypted ? SqlTokenStore.layer({ encrypted: true }).pipe(Layer.provide(key)) : SqlTokenStore.layer()
    )
  ).pipe(Layer.provide(SqliteClient.layer({ filename: ":memory:" })))

// A schema of its own per test, dropped afterwards; a small pool so that the lock's dedicated connection is exercised.
const postgres = (encrypted: boolean) =>
  Layer.unwrapScoped(
    Effect.map(
      Postgres.migratedSchema,
      (schema) =>
        encrypted
          ? SqlTokenStore.layer({ schema, encrypted: true }).pipe(Layer.provide(key))
          : SqlTokenStore.layer({ schema })
    )
  ).pipe(Layer.provide(Postgres.clientLayer({ maxConnections: 3 })))

TokenStoreContract.run("SqlTokenStore on SQLite", sqlite(false))
TokenStoreContract.run("SqlTokenStore on SQLite, encrypted", sqlite(true))

describe.skipIf(Postgres.skip)("PostgreSQL", () => {
  TokenStoreContract.run("SqlTokenStore on PostgreSQL", postgres(false))
  TokenStoreContract.run("SqlTokenStore on PostgreSQL, encrypted", postgres(true))
})
