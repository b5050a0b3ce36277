/**
 * The packages as a user gets them: built, packed with `pnpm pack`, installed with npm from the tarballs into a
 * project outside the workspace, then type-checked and run as ES modules, as CommonJS and through a bundler. The
 * CLI's binary runs from the tarball, and arethetypeswrong checks every tarball.
 *
 * Network: npm fetches the peers (effect, @effect/platform, ...) from the registry, through one npm cache shared by
 * every run (`$TMPDIR/dropbox-sign-effect-npm-cache`) with `--prefer-offline`.
 */
import * as NodeOs from "node:os"
import * as NodePath from "node:path"

import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, layer } from "@effect/vitest"
import { Console, Context, Duration, Effect, Layer, Schema } from "effect"
import * as esbuild from "esbuild"

import { consumers, projectManifest } from "./consumers.js"
import { bin, exec, execOk, tsc, workspaceRoot } from "./exec.js"

const packageFolders = ["oauth", "testing", "sql", "cli"] as const
type PackageFolder = typeof packageFolders[number]

/** One value per package folder. */
const byFolder = <A>(f: (folder: PackageFolder) => A): Record<PackageFolder, A> => ({
  oauth: f("oauth"),
  testing: f("testing"),
  sql: f("sql"),
  cli: f("cli")
})

interface Packed {
  /** The tarball of each package. */
  readonly tarballs: Readonly<Record<PackageFolder, string>>
  /** Each tarball unpacked (its `package/` folder). */
  readonly unpacked: Readonly<Record<PackageFolder, string>>
  /** The consumer project, installed. */
  readonly project: string
}

class PackedPackages extends Context.Tag("test/pack/PackedPackages")<PackedPackages, Packed>() {}

const npmCache = NodePath.join(NodeOs.tmpdir(), "dropbox-sign-effect-npm-cache")

/** Prints how long a step took: the time budget of `.ci/run` is watched through these lines. */
const timed = <A, E, R>(label: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.timed(effect).pipe(
    Effect.tap(([duration]) => Console.log(`pack: ${label} in ${Duration.format(duration)}`)),
    Effect.map(([, a]) => a)
  )

const Entry = Schema.Struct({
  import: Schema.Struct({ types: Schema.String, default: Schema.String }),
  require: Schema.Struct({ types: Schema.String, default: Schema.String })
})

/** What the tests read of a packed package.json. */
const Manifest = Schema.parseJson(Schema.Struct({
  license: Schema.String,
  homepage: Schema.String,
  keywords: Schema.Array(Schema.String),
  sideEffects: Schema.Array(Schema.String),
  engines: Schema.Struct({ node: Schema.String }),
  repository: Schema.Struct({ url: Schema.String, directory: Schema.String }),
  exports: Schema.Record({ key: Schema.String, value: Schema.Union(Entry, Schema.String) }),
  peerDependencies: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  typesVersions: Schema.Struct({ "*": Schema.Record({ key: Schema.String, value: Schema.Array(Schema.String) }) }),
  bin: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String }))
}))

const AttwReport = Schema.parseJson(Schema.Struct({
  analysis: Schema.Struct({
    problems: Schema.Array(Schema.Unknown),
    entrypoints: Schema.Record({ key: Schema.String, value: Schema.Unknown })
  })
}))

const setup = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const root = yield* fs.makeTempDirectoryScoped({ prefix: "dropbox-sign-effect-pack-" })
  yield* timed("pnpm build", execOk("pnpm", ["build"], { cwd: workspaceRoot }))
  const tarballDirectory = NodePath.join(root, "tarballs")
  yield* timed(
    "pnpm pack",
    execOk("pnpm", ["-r", "--filter", "./packages/*", "pack", "--pack-destination", tarballDirectory], {
      cwd: workspaceRoot
    })
  )
  const files = yield* fs.readDirectory(tarballDirectory)
  const tarballs = yield* Effect.all(byFolder((folder) => {
    const file = files.find((name) => name.startsWith(`dropbox-sign-effect-${folder}-`) && name.endsWith(".tgz"))
    return file === undefined ?
      Effect.dieMessage(`no tarball for ${folder} in ${files.join(", ")}`) :
      Effect.succeed(NodePath.join(tarballDirectory, file))
  }))
  const unpacked = yield* Effect.all(byFolder((folder) => {
    const directory = NodePath.join(root, "unpacked", folder)
    return fs.makeDirectory(directory, { recursive: true }).pipe(
      Effect.zipRight(execOk("tar", ["-xzf", tarballs[folder], "-C", directory], { cwd: root })),
      Effect.as(NodePath.join(directory, "package"))
    )
  }))

  const project = NodePath.join(root, "consumer")
  yield* fs.makeDirectory(project)
  const dependencies = packageFolders.map((folder) => ({
    name: `@dropbox-sign-effect/${folder}`,
    file: tarballs[folder]
  }))
  yield* fs.writeFileString(NodePath.join(project, "package.json"), JSON.stringify(projectManifest(dependencies)))
  for (const consumer of consumers) {
    yield* fs.makeDirectory(NodePath.join(project, consumer.name))
    for (const [name, text] of Object.entries(consumer.files)) {
      yield* fs.writeFileString(NodePath.join(project, consumer.name, name), text)
    }
  }
  yield* timed(
    "npm install",
    execOk("npm", ["install", "--cache", npmCache, "--prefer-offline", "--no-audit", "--no-fund"], { cwd: project })
  )
  return PackedPackages.of({ tarballs, unpacked, project })
}).pipe(Effect.orDie)

const TestLive = Layer.scoped(PackedPackages, setup).pipe(Layer.provideMerge(NodeContext.layer))

describe("packed tarballs", () => {
  layer(TestLive, { timeout: 300_000, excludeTestServices: true })((it) => {
    it.effect("every manifest maps each public module for import and require, without the source condition", () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const packed = yield* PackedPackages
        for (const folder of packageFolders) {
          const text = yield* fs.readFileString(NodePath.join(packed.unpacked[folder], "package.json"))
          expect(text).not.toContain("\"source\"")
          expect(text).not.toContain("workspace:")
          const manifest = yield* Schema.decodeUnknown(Manifest)(text)
          const sources = yield* fs.readDirectory(NodePath.join(workspaceRoot, "packages", folder, "src"))
          const modules = sources.filter((file) => /^[A-Z]\w*\.ts$/.test(file)).map((file) => file.slice(0, -3)).sort()
          expect(Object.keys(manifest.exports)).toEqual([".", ...modules.map((m) => `./${m}`), "./package.json"])
          for (const [subpath, entry] of Object.entries(manifest.exports)) {
            if (subpath === "./package.json") continue
            const module = subpath === "." ? "index" : subpath.slice(2)
            expect(entry, `${folder} ${subpath}`).toEqual({
              import: { types: `./dist/esm/${module}.d.ts`, default: `./dist/esm/${module}.js` },
              require: { types: `./dist/cjs/${module}.d.ts`, default: `./dist/cjs/${module}.js` }
            })
            if (typeof entry === "string") continue
            for (const file of [...Object.values(entry.import), ...Object.values(entry.require)]) {
              expect(yield* fs.exists(NodePath.join(packed.unpacked[folder], file)), `${folder}: ${file}`).toBe(true)
            }
          }
          expect(manifest.sideEffects).toEqual([])
          expect(manifest.license).toBe("MIT")
          expect(manifest.repository.directory).toBe(`packages/${folder}`)
          expect(manifest.homepage).toMatch(/^https:\/\//)
          expect(manifest.engines.node).toBe(">=20")
          expect(manifest.keywords).toContain("effect")
          if (manifest.peerDependencies?.["effect"] !== undefined) {
            expect(manifest.peerDependencies["effect"]).toBe("^3.22.0")
          }
          // TypeScript's node10 resolution reads typesVersions for the subpath modules.
          expect(Object.keys(manifest.typesVersions["*"])).toEqual(modules)
        }
        const cli = yield* Schema.decodeUnknown(Manifest)(
          yield* fs.readFileString(NodePath.join(packed.unpacked.cli, "package.json"))
        )
        expect(cli.bin).toEqual({ "dropbox-sign-oauth": "./dist/esm/bin.js" })
        expect(yield* fs.readFileString(NodePath.join(packed.unpacked.cli, "dist", "esm", "bin.js")))
          .toMatch(/^#!\/usr\/bin\/env node\n/)
      }))

    it.effect("tarballs hold a README, a LICENSE and a CHANGELOG, and no build-internal file", () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const packed = yield* PackedPackages
        for (const folder of packageFolders) {
          const files = (yield* fs.readDirectory(packed.unpacked[folder], { recursive: true })).sort()
          expect(files, folder).toEqual(expect.arrayContaining(["LICENSE", "README.md", "CHANGELOG.md"]))
          expect(yield* fs.readFileString(NodePath.join(packed.unpacked[folder], "LICENSE"))).toContain("MIT License")
          expect(files.filter((file) => /tsbuildinfo|^build\/|^test\/|\.test\.ts$/.test(file)), folder).toEqual([])
          expect(yield* fs.readFileString(NodePath.join(packed.unpacked[folder], "dist", "cjs", "package.json")))
            .toContain("\"commonjs\"")
        }
      }))

    it.effect("arethetypeswrong finds no problem in any tarball", () =>
      Effect.gen(function*() {
        const packed = yield* PackedPackages
        for (const folder of packageFolders) {
          // attw exits 1 when it finds a problem: its report says which, so it is read whatever the exit code.
          const result = yield* exec(bin("attw"), [packed.tarballs[folder], "--format", "json"], { cwd: workspaceRoot })
          const report = yield* Schema.decodeUnknown(AttwReport)(result.stdout)
          expect(report.analysis.problems, folder).toEqual([])
          expect(result.code, folder).toBe(0)
          // "." and "./package.json" at least, and every module: the analysis covered the whole map.
          expect(Object.keys(report.analysis.entrypoints).length, folder).toBeGreaterThan(3)
        }
      }), 120_000)

    it.effect(
      "an ES module consumer (NodeNext) type-checks and runs, importing a subpath module",
      () =>
        Effect.gen(function*() {
          const { project } = yield* PackedPackages
          const folder = NodePath.join(project, "esm")
          yield* execOk(process.execPath, [tsc, "-p", folder], { cwd: folder })
          const run = yield* execOk(process.execPath, ["out/main.js"], { cwd: folder })
          expect(run.stdout).toMatch(/^esm: connected\nesm: file:\S+\/oauth\/dist\/esm\/TokenManager\.js\n$/)
        }),
      60_000
    )

    it.effect(
      "a CommonJS consumer type-checks and runs with require, loading the CommonJS build",
      () =>
        Effect.gen(function*() {
          const fs = yield* FileSystem.FileSystem
          const { project } = yield* PackedPackages
          const folder = NodePath.join(project, "cjs")
          yield* execOk(process.execPath, [tsc, "-p", folder], { cwd: folder })
          expect(yield* fs.readFileString(NodePath.join(folder, "out", "main.js")))
            .toContain("require(\"@dropbox-sign-effect/oauth/TokenManager\")")
          const run = yield* execOk(process.execPath, ["out/main.js"], { cwd: folder })
          expect(run.stdout).toMatch(/^cjs: connected\ncjs: \S+\/oauth\/dist\/cjs\/TokenManager\.js\n$/)
        }),
      60_000
    )

    it.effect(
      "a bundler consumer type-checks, bundles (tree-shaking unused modules) and runs",
      () =>
        Effect.gen(function*() {
          const { project } = yield* PackedPackages
          const folder = NodePath.join(project, "bundler")
          yield* execOk(process.execPath, [tsc, "-p", folder], { cwd: folder })
          const bundle = (entry: string) =>
            Effect.promise(() =>
              esbuild.build({
                absWorkingDir: folder,
                entryPoints: [entry],
                bundle: true,
                platform: "node",
                format: "cjs",
                outdir: "out",
                outExtension: { ".js": ".cjs" },
                metafile: true,
                logLevel: "silent"
              })
            )
          yield* bundle("main.ts")
          const run = yield* execOk(process.execPath, ["out/main.cjs"], { cwd: folder })
          expect(run.stdout).toBe("bundler: connected\nbundler: bundled\n")

          const states = yield* bundle("states.ts")
          const bundled = Object.keys(Object.values(states.metafile.outputs)[0]!.inputs)
          expect(bundled.some((file) => file.endsWith("oauth/dist/esm/OAuthState.js"))).toBe(true)
          expect(bundled.filter((file) => /oauth\/dist\/esm\/(TokenManager|OAuthApi)\.js$/.test(file))).toEqual([])
        }),
      60_000
    )

    it.effect("the CLI's binary runs from the tarball", () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const { project, unpacked } = yield* PackedPackages
        const { version } = yield* fs.readFileString(NodePath.join(unpacked.cli, "package.json")).pipe(
          Effect.flatMap(Schema.decodeUnknown(Schema.parseJson(Schema.Struct({ version: Schema.String }))))
        )
        const binary = NodePath.join(project, "node_modules", ".bin", "dropbox-sign-oauth")
        // `--version` loads every command of the CLI, so a module that does not resolve from the tarball fails here.
        const run = yield* execOk(binary, ["--version"], { cwd: project })
        expect(run.stderr).toBe("")
        expect(run.stdout.trim()).toBe(version)
      }), 60_000)
  })
})
