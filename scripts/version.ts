/**
 * Run after `changeset version` (`pnpm version-packages`): writes each package's new version into its
 * `src/internal/version.ts`, where one exists, so that code that prints or sends its version (the CLI's
 * `--version`) matches package.json in both builds.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"

const packages = Path.join(import.meta.dirname, "..", "packages")

for (const name of Fs.readdirSync(packages)) {
  const file = Path.join(packages, name, "src", "internal", "version.ts")
  if (!Fs.existsSync(file)) continue
  const { version } = JSON.parse(Fs.readFileSync(Path.join(packages, name, "package.json"), "utf8"))
  const text = Fs.readFileSync(file, "utf8")
  const next = text.replace(/export const version = "[^"]*"/, `export const version = ${JSON.stringify(version)}`)
  if (next === text && !text.includes(JSON.stringify(version))) throw new Error(`${file}: no version constant`)
  Fs.writeFileSync(file, next)
}
