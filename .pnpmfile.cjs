// The manifest that `pnpm pack` and `pnpm publish` ship. The workspace's package.json maps every module with a
// `source` condition (TypeScript sources, for the workspace only) and a `./*` pattern; the published one lists "."
// and every public module explicitly, generated here from `src/*.ts` so that a module added or removed is picked up
// without editing a manifest by hand. A public module is a PascalCase file directly in `src/` (`src/internal/` and
// entry scripts such as `src/bin.ts` are not modules). Each module maps `import` and `require` to their own
// declarations and JavaScript (built by `pnpm build`, see scripts/build-package.ts).
/* global __dirname, module, require */
/* eslint-disable @typescript-eslint/no-require-imports -- pnpm loads this file with require: it is CommonJS */
"use strict"

const fs = require("node:fs")
const path = require("node:path")

const packagesDirectory = path.join(__dirname, "packages")

/** The workspace folder of a package, from its name: `@dropbox-sign-effect/oauth` lives in `packages/oauth`. */
const directoryOf = (name) => {
  const directory = path.join(packagesDirectory, name.split("/").pop())
  const manifest = path.join(directory, "package.json")
  if (!fs.existsSync(manifest) || JSON.parse(fs.readFileSync(manifest, "utf8")).name !== name) {
    throw new Error(`.pnpmfile.cjs: no workspace package ${name} in ${directory}`)
  }
  return directory
}

/** The public modules of a package: `src/*.ts` with a PascalCase name. */
const publicModules = (directory) =>
  fs.readdirSync(path.join(directory, "src"))
    .filter((file) => /^[A-Z][A-Za-z0-9]*\.ts$/.test(file))
    .map((file) => file.slice(0, -".ts".length))
    .sort()

const entry = (directory, module) => {
  const files = {
    import: { types: `./dist/esm/${module}.d.ts`, default: `./dist/esm/${module}.js` },
    require: { types: `./dist/cjs/${module}.d.ts`, default: `./dist/cjs/${module}.js` }
  }
  for (const file of Object.values(files).flatMap(Object.values)) {
    if (!fs.existsSync(path.join(directory, file))) {
      throw new Error(`.pnpmfile.cjs: ${file} is missing in ${directory}: run \`pnpm build\` before packing`)
    }
  }
  return files
}

/** The manifest to publish: explicit `exports` without the `source` condition, and `typesVersions` for `node10`. */
const publishedManifest = (manifest) => {
  if (!manifest.name || !manifest.name.startsWith("@dropbox-sign-effect/")) return manifest
  const directory = directoryOf(manifest.name)
  const modules = publicModules(directory)
  const exports = { ".": entry(directory, "index") }
  for (const module of modules) exports[`./${module}`] = entry(directory, module)
  exports["./package.json"] = "./package.json"
  // TypeScript's `node10` resolution ignores `exports`: `typesVersions` gives it the subpath modules' declarations.
  const typesVersions = { "*": Object.fromEntries(modules.map((module) => [module, [`./dist/cjs/${module}.d.ts`]])) }
  return { ...manifest, exports, typesVersions }
}

module.exports = {
  hooks: { beforePacking: publishedManifest },
  publishedManifest
}
