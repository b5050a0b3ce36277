/**
 * After each package's `docgen` (`pnpm run docs`): gathers the API references into `docs/<package>/` at the root,
 * with an index, so that the whole reference is one folder to browse or publish.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"

const root = Path.join(import.meta.dirname, "..")
const out = Path.join(root, "docs")
Fs.rmSync(out, { recursive: true, force: true })

const lines = ["# dropbox-sign-effect API reference", ""]
for (const name of Fs.readdirSync(Path.join(root, "packages")).sort()) {
  const modules = Path.join(root, "packages", name, "docs", "modules")
  if (!Fs.existsSync(modules)) continue
  Fs.cpSync(Path.join(root, "packages", name, "docs"), Path.join(out, name), { recursive: true })
  const pages = Fs.readdirSync(modules).filter((file) => file.endsWith(".ts.md")).sort()
  lines.push(`## @dropbox-sign-effect/${name}`, "")
  for (const page of pages) lines.push(`- [${page.slice(0, -".ts.md".length)}](${name}/modules/${page})`)
  lines.push("")
}
Fs.mkdirSync(out, { recursive: true })
Fs.writeFileSync(Path.join(out, "README.md"), lines.join("\n"))
