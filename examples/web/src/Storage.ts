/**
 * Where the example keeps tokens: PostgreSQL when `DATABASE_URL` is set (one table, shared by every process),
 * otherwise one file per account in a directory.
 */
import { type TokenError, TokenStore } from "@dropbox-sign-effect/oauth"
import { SqlTokenStore } from "@dropbox-sign-effect/sql"
import { type Error, FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import type { SqlError } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import type { ConfigError } from "effect"
import { Config, Effect, Layer, Option } from "effect"

/** One file per account in `directory` (created with mode 0700, files 0600). */
export const fileSystem = (directory: string): Layer.Layer<TokenStore.TokenStore, TokenError.TokenStoreError> =>
  TokenStore.layerFileSystem(directory).pipe(Layer.provide(NodeContext.layer))

/** A fresh temporary directory, removed when the application stops. */
export const temporary: Layer.Layer<TokenStore.TokenStore, TokenError.TokenStoreError | Error.PlatformError> = Layer
  .unwrapScoped(
    Effect.map(
      Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix: "dropbox-sign-example-" })),
      fileSystem
    )
  ).pipe(Layer.provide(NodeContext.layer))

/** PostgreSQL at `DATABASE_URL` if it is set, otherwise `fallback`. */
export const fromEnvironment = <E>(
  fallback: Layer.Layer<TokenStore.TokenStore, E>
): Layer.Layer<TokenStore.TokenStore, E | TokenError.TokenStoreError | SqlError.SqlError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(
    Effect.map(Config.option(Config.redacted("DATABASE_URL")), (url) =>
      Option.match(url, {
        onNone: (): Layer.Layer<TokenStore.TokenStore, E | TokenError.TokenStoreError | SqlError.SqlError> => fallback,
        onSome: (url) => SqlTokenStore.layerWithMigrations().pipe(Layer.provide(PgClient.layer({ url })))
      }))
  )
