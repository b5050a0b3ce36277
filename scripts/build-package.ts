/**
 * The second half of a package's build (`pnpm build` runs `tsc -b tsconfig.src.json` first, which type-checks and
 * writes the ES modules and declarations to `dist/esm`). This script, run from the package's folder:
 *
 * 1. removes outputs whose source was deleted (`tsc -b` never does), so a removed module does not ship;
 * 2. transpiles every `src/**\/*.ts` to CommonJS in `dist/cjs` with esbuild (the step Effect does with Babel), with
 *    source maps that point at `src/`;
 * 3. copies the declarations next to the CommonJS files and marks `dist/cjs` as `"type": "commonjs"`, so that a
 *    `require` gets declarations of the CommonJS format and an `import` those of the ES module format (one shared
 *    `.d.ts` folder, as in `effect`, is "masquerading as CJS" for `import` under `node16`).
 *
 * The `exports` map of the published manifest is generated from `src/*.ts` at pack time: see `.pnpmfile.cjs`.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"

import * as esbuild from "esbuild"

const root = process.cwd()
const src = Path.join(root, "src")
const esm = Path.join(root, "dist", "esm")
const cjs = Path.join(root, "dist", "cjs")

const walk = (directory: string): Array<string> =>
  Fs.existsSync(directory) ?
    Fs.readdirSync(directory, { recursive: true, encoding: "utf8" }).filter((file) =>
      Fs.statSync(Path.join(directory, file)).isFile()
    ) :
    []

/** `TokenManager.d.ts.map` → `TokenManager.ts`: the source a `dist/esm` file was emitted from. */
const sourceOf = (file: string): string => file.replace(/(\.d)?\.(js|ts)(\.map)?$/, ".ts")

for (const file of walk(esm)) {
  if (!Fs.existsSync(Path.join(src, sourceOf(file)))) Fs.rmSync(Path.join(esm, file))
}

Fs.rmSync(cjs, { recursive: true, force: true })
const sources = walk(src).filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: sources.map((file) => Path.join("src", file)),
  outbase: "src",
  outdir: cjs,
  format: "cjs",
  platform: "node",
  target: "es2022",
  tsconfig: "tsconfig.src.json",
  sourcemap: true,
  sourcesContent: false,
  logLevel: "warning"
})
if (result.errors.length > 0 || result.warnings.length > 0) {
  throw new Error(`esbuild reported ${result.errors.length} errors and ${result.warnings.length} warnings`)
}

for (const file of walk(esm).filter((file) => /\.d\.ts(\.map)?$/.test(file))) {
  const target = Path.join(cjs, file)
  Fs.mkdirSync(Path.dirname(target), { recursive: true })
  Fs.copyFileSync(Path.join(esm, file), target)
}
Fs.writeFileSync(Path.join(cjs, "package.json"), `${JSON.stringify({ type: "commonjs" }, null, 2)}\n`)
