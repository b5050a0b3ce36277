import * as Crypto from "node:crypto"

import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Effect, Option } from "effect"

import { TokenStoreError } from "../TokenError.js"
import type { Backend } from "./storeKeyValue.js"

const suffix = ".token"
const temporarySuffix = ".tmp"

/** `.<key>.<random hex>.tmp`, as `set` names its temporary files. */
const temporaryName = /^\.([^.]+)\.[0-9a-f]+\.tmp$/
const directoryMode = 0o700
const fileMode = 0o600

const ignoreNotFound = <A>(onNotFound: A) => (error: PlatformError): Effect.Effect<A, PlatformError> =>
  error._tag === "SystemError" && error.reason === "NotFound" ? Effect.succeed(onNotFound) : Effect.fail(error)

/**
 * A directory of files, one per key, each replaced atomically: the value goes to a temporary file in the same
 * directory (created exclusively with mode 0600, flushed with `fsync`), which is then renamed over the target, so a
 * reader or a crash sees the old value or the new one, never a torn write. Temporary names start with a dot and are
 * never listed. A process killed during a write leaves its temporary file behind, and that file may hold a whole
 * entry, refresh token included: temporary files are removed when the store opens and, for one key, when the key is
 * removed. The directory is created with mode 0700; an existing directory keeps its mode (with a warning when other
 * users can read it).
 *
 * @internal
 */
export const makeBackend = (
  directory: string
): Effect.Effect<Backend, TokenStoreError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const encoder = new TextEncoder()
    const fileOf = (key: string) => path.join(directory, key + suffix)

    if (yield* fs.exists(directory)) {
      const info = yield* fs.stat(directory)
      if (info.type !== "Directory") {
        return yield* new TokenStoreError({ operation: "open", reason: `${directory} is not a directory` })
      }
      if (process.platform !== "win32" && (info.mode & 0o077) !== 0) {
        yield* Effect.logWarning(
          `The token directory ${directory} is accessible to other users (mode ${
            (info.mode & 0o777).toString(8)
          }); consider chmod 700`
        )
      }
    } else {
      yield* fs.makeDirectory(directory, { recursive: true, mode: directoryMode })
    }

    // Removes what killed writers left behind. Several processes must not share the directory (see the store's
    // docs), so no temporary file found here belongs to a write in progress.
    const removeTemporaries = (key?: string) =>
      fs.readDirectory(directory).pipe(
        Effect.flatMap((names) =>
          Effect.forEach(
            names.filter((name) => {
              const match = temporaryName.exec(name)
              return match !== null && (key === undefined || match[1] === key)
            }),
            (name) => Effect.catchAll(fs.remove(path.join(directory, name)), ignoreNotFound(undefined)),
            { discard: true }
          )
        )
      )
    yield* removeTemporaries()

    // Makes the rename itself durable; best effort, since not every platform can open a directory.
    const syncDirectory = Effect.scoped(Effect.flatMap(fs.open(directory, { flag: "r" }), (handle) => handle.sync))
      .pipe(Effect.ignore)

    const set = (key: string, value: string) =>
      Effect.gen(function*() {
        const random = yield* Effect.sync(() => Crypto.randomBytes(8).toString("hex"))
        const temporary = path.join(directory, `.${key}.${random}${temporarySuffix}`)
        yield* Effect.scoped(Effect.gen(function*() {
          const handle = yield* fs.open(temporary, { flag: "wx", mode: fileMode })
          yield* handle.writeAll(encoder.encode(value))
          yield* handle.sync
        })).pipe(
          Effect.zipRight(fs.rename(temporary, fileOf(key))),
          Effect.onError(() => Effect.ignore(fs.remove(temporary)))
        )
        yield* syncDirectory
      })

    const backend: Backend = {
      get: (key) =>
        fs.readFileString(fileOf(key)).pipe(
          Effect.map(Option.some),
          Effect.catchAll(ignoreNotFound(Option.none<string>()))
        ),
      set,
      remove: (key) =>
        Effect.catchAll(fs.remove(fileOf(key)), ignoreNotFound(undefined)).pipe(
          Effect.zipRight(removeTemporaries(key))
        ),
      location: fileOf,
      keys: Option.some(
        Effect.map(
          fs.readDirectory(directory),
          (names) =>
            names
              .filter((name) => name.endsWith(suffix) && !name.startsWith("."))
              .map((name) => name.slice(0, -suffix.length))
        )
      )
    }
    return backend
  }).pipe(
    Effect.catchTags({
      BadArgument: (error) => Effect.fail(new TokenStoreError({ operation: "open", reason: error.message })),
      SystemError: (error) => Effect.fail(new TokenStoreError({ operation: "open", reason: error.message }))
    })
  )
