/**
 * The applications that consume the packed tarballs: one npm project outside the workspace, whose folders are three
 * consumers that differ only in what matters here (module format and resolution): `esm/` (ES modules,
 * `moduleResolution: NodeNext`), `cjs/` (CommonJS with `require`, `moduleResolution: NodeNext`) and `bundler/`
 * (`moduleResolution: bundler`, bundled by esbuild). They share one `node_modules`, so npm installs once.
 */

/** The consumer project's package.json: the tarballs and the peers an application installs itself. */
export const projectManifest = (tarballs: ReadonlyArray<{ readonly name: string; readonly file: string }>) => ({
  name: "dropbox-sign-effect-consumer",
  private: true,
  dependencies: {
    ...Object.fromEntries(tarballs.map(({ file, name }) => [name, `file:${file}`])),
    "@effect/platform": "^0.97.0",
    "@effect/platform-node": "^0.108.0",
    "@effect/sql": "^0.52.0",
    "@types/node": "^20.19.0",
    effect: "^3.22.0"
  }
})

/**
 * Strict, as a careful application is. `skipLibCheck` as most are: checking the declarations of effect and
 * @effect/platform costs about 20 s and needs the DOM library; ours are checked by arethetypeswrong (every import
 * in them resolves) and by `notAny` below (their types did not degrade).
 */
const strict = {
  strict: true,
  skipLibCheck: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noUnusedLocals: true,
  target: "ES2022",
  lib: ["ES2022"],
  types: ["node"]
}

/**
 * Fails type-checking if a package's types degraded to `any` (as they do, silently, when a declaration file does
 * not resolve under `skipLibCheck`).
 */
const notAny = `
type IsAny<T> = 0 extends 1 & T ? true : false
export const typed: [
  IsAny<typeof TokenManager.TokenManager>,
  IsAny<typeof FakeDropboxSign.layerClient>,
  IsAny<typeof SqlTokenStore.layer>,
  IsAny<typeof OAuthState.make>
] = [false, false, false, false]
`

/** Connects an account against the in-memory fake and reads its token back through the manager. */
const flow = (label: string, resolved: string) => `
const Live = TokenManager.layerWithClient().pipe(
  Layer.provideMerge(TokenStore.layerMemory),
  Layer.provideMerge(OAuthConfig.layer({
    clientId: FakeDropboxSign.defaultApp.clientId,
    clientSecret: FakeDropboxSign.defaultApp.clientSecret
  })),
  Layer.provideMerge(FakeDropboxSign.layerClient)
)

const program = Effect.gen(function*() {
  const fake = yield* FakeDropboxSign.FakeDropboxSign
  const tokens = yield* TokenManager.TokenManager
  const state = yield* OAuthState.make
  const account = AccountId.make("packed")
  yield* tokens.authorize(account, { code: yield* fake.issueCode({ state }), state }, state)
  const token = yield* tokens.accessToken(account)
  return Redacted.value(token).length > 0 && typeof SqlTokenStore.layer === "function"
})

Effect.runPromise(Effect.provide(program, Live)).then((ok) => {
  console.log(${JSON.stringify(label)} + ": " + (ok ? "connected" : "no token"))
  console.log(${JSON.stringify(label)} + ": " + ${resolved})
})
`

/** A consumer: the files of one folder of the project, and how to run it. */
export interface Consumer {
  readonly name: "esm" | "cjs" | "bundler"
  readonly files: Readonly<Record<string, string>>
}

/** ES modules, `moduleResolution: NodeNext`. */
export const esm: Consumer = {
  name: "esm",
  files: {
    "package.json": JSON.stringify({ type: "module" }),
    "tsconfig.json": JSON.stringify({
      compilerOptions: { ...strict, module: "NodeNext", moduleResolution: "NodeNext", outDir: "out" },
      include: ["main.ts"]
    }),
    "main.ts": `import { AccountId, OAuthConfig, OAuthState, TokenStore } from "@dropbox-sign-effect/oauth"
import * as TokenManager from "@dropbox-sign-effect/oauth/TokenManager"
import { SqlTokenStore } from "@dropbox-sign-effect/sql"
import * as FakeDropboxSign from "@dropbox-sign-effect/testing/FakeDropboxSign"
import { Effect, Layer, Redacted } from "effect"
${notAny}${flow("esm", `import.meta.resolve("@dropbox-sign-effect/oauth/TokenManager")`)}`
  }
}

/** CommonJS: `import x = require(...)` compiles to `require` calls; the CommonJS build must be what loads. */
export const cjs: Consumer = {
  name: "cjs",
  files: {
    "package.json": JSON.stringify({ type: "commonjs" }),
    "tsconfig.json": JSON.stringify({
      compilerOptions: { ...strict, module: "NodeNext", moduleResolution: "NodeNext", outDir: "out" },
      include: ["main.ts"]
    }),
    "main.ts": `import OAuth = require("@dropbox-sign-effect/oauth")
import TokenManager = require("@dropbox-sign-effect/oauth/TokenManager")
import Sql = require("@dropbox-sign-effect/sql")
import FakeDropboxSign = require("@dropbox-sign-effect/testing/FakeDropboxSign")
import Fx = require("effect")

const { AccountId, OAuthConfig, OAuthState, TokenStore } = OAuth
const { SqlTokenStore } = Sql
const { Effect, Layer, Redacted } = Fx
${notAny}${flow("cjs", `require.resolve("@dropbox-sign-effect/oauth/TokenManager")`)}`
  }
}

/** `moduleResolution: bundler`, type-checked with `noEmit`, then bundled by esbuild and run. */
export const bundler: Consumer = {
  name: "bundler",
  files: {
    "package.json": JSON.stringify({ type: "module" }),
    "tsconfig.json": JSON.stringify({
      compilerOptions: { ...strict, module: "ESNext", moduleResolution: "bundler", noEmit: true },
      include: ["main.ts", "states.ts"]
    }),
    "main.ts": `import { AccountId, OAuthConfig, OAuthState, TokenStore } from "@dropbox-sign-effect/oauth"
import * as TokenManager from "@dropbox-sign-effect/oauth/TokenManager"
import { SqlTokenStore } from "@dropbox-sign-effect/sql"
import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import { Effect, Layer, Redacted } from "effect"
${notAny}${flow("bundler", `"bundled"`)}`,
    // Uses one module of the index: with `sideEffects: []` the bundler drops the others.
    "states.ts": `import { OAuthState } from "@dropbox-sign-effect/oauth"

console.log(typeof OAuthState.make)
`
  }
}

export const consumers: ReadonlyArray<Consumer> = [esm, cjs, bundler]
