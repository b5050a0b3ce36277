/**
 * Every TypeScript block of README.md and packages/*\/README.md, and every `@example` of packages/*\/src, type-checks
 * against the workspace's packages (their sources, through the `source` export condition, so no build is needed),
 * strictly, in one compiler run. See snippets.ts for the convention that declares names a README block takes from
 * its surroundings. (`docgen` type-checks the examples too, in `pnpm run docs`, except the testing package's: those
 * need vitest, so docgen skips them there and this test is what checks them.)
 */
import * as NodePath from "node:path"

import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"

import { exec, tsc, workspaceRoot } from "../pack/exec.js"
import { extract, extractExamples, fileName, fileText, markdownLine, type Snippet } from "./snippets.js"

const readmes = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const packages = yield* fs.readDirectory(NodePath.join(workspaceRoot, "packages"))
  const candidates = ["README.md", ...packages.sort().map((name) => `packages/${name}/README.md`)]
  const present = yield* Effect.filter(candidates, (file) => fs.exists(NodePath.join(workspaceRoot, file)))
  return yield* Effect.forEach(
    present,
    (file) => Effect.map(fs.readFileString(NodePath.join(workspaceRoot, file)), (text) => extract(file, text))
  )
}).pipe(Effect.map((all) => all.flat()))

/** The `@example`s of every public module (`packages/*\/src/*.ts`). */
const examples = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const packages = (yield* fs.readDirectory(NodePath.join(workspaceRoot, "packages"))).sort()
  const files = yield* Effect.forEach(
    packages,
    (name) =>
      fs.readDirectory(NodePath.join(workspaceRoot, "packages", name, "src")).pipe(
        Effect.map((entries) =>
          entries.filter((file) => file.endsWith(".ts")).sort().map((file) => `packages/${name}/src/${file}`)
        )
      )
  )
  return yield* Effect.forEach(
    files.flat(),
    (file) => Effect.map(fs.readFileString(NodePath.join(workspaceRoot, file)), (text) => extractExamples(file, text))
  )
}).pipe(Effect.map((all) => all.flat()))

/** The compiler options of a careful application, resolving the workspace packages to their sources. */
const tsconfig = {
  compilerOptions: {
    strict: true,
    exactOptionalPropertyTypes: true,
    noEmit: true,
    skipLibCheck: true,
    target: "ES2022",
    lib: ["ES2022"],
    module: "NodeNext",
    moduleResolution: "NodeNext",
    moduleDetection: "force",
    customConditions: ["source"],
    types: ["node"]
  },
  include: ["*.ts"]
}

describe("README snippets", () => {
  it("the prelude comment declares names at the top of the block's file", () => {
    const [snippet, ...rest] = extract(
      "EXAMPLE.md",
      [
        "text",
        "<!-- declare:",
        "const accountId: AccountId.AccountId",
        "const code: string",
        "-->",
        "```ts",
        "yield* tokens.authorize(accountId, code)",
        "```",
        "```sh",
        "pnpm demo",
        "```"
      ].join("\n")
    )
    expect(rest).toEqual([])
    expect(snippet).toEqual({
      source: "EXAMPLE.md",
      line: 7,
      prelude: ["declare const accountId: AccountId.AccountId", "declare const code: string"],
      code: "yield* tokens.authorize(accountId, code)"
    })
    expect(fileText(snippet!)).toBe(
      "declare const accountId: AccountId.AccountId\ndeclare const code: string\nyield* tokens.authorize(accountId, code)\n"
    )
    expect(markdownLine(snippet!, 3)).toBe(7)
    const [single] = extract("ONE.md", "<!-- declare: const state: string -->\n```typescript\nstate\n```")
    expect(single?.prelude).toEqual(["declare const state: string"])
  })

  it("an @example is the fenced block after the tag, without the comment's margin", () => {
    const [example, ...rest] = extractExamples(
      "packages/x/src/X.ts",
      [
        "/**",
        " * Does x.",
        " *",
        " * @since 0.1.0",
        " * @example",
        " * ```ts",
        " * import { X } from \"x\"",
        " *",
        " * X.run()",
        " * ```",
        " */",
        "export const run = () => {}"
      ].join("\n")
    )
    expect(rest).toEqual([])
    expect(example).toEqual({
      source: "packages/x/src/X.ts",
      line: 7,
      prelude: [],
      code: "import { X } from \"x\"\n\nX.run()"
    })
  })

  it.scoped("every TypeScript block of every README, and every @example, compiles", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const blocks = yield* readmes
      expect(blocks.filter((snippet) => snippet.source === "README.md").length).toBeGreaterThan(2)
      const sourceExamples = yield* examples
      expect(sourceExamples.length).toBeGreaterThan(3)
      const snippets = [...blocks, ...sourceExamples]
      // Inside the workspace, so that packages resolve as they do for the tests; removed afterwards.
      const directory = yield* fs.makeTempDirectoryScoped({
        directory: NodePath.join(workspaceRoot, "test", "readme"),
        prefix: ".snippets-"
      })
      const byFile = new Map<string, Snippet>()
      for (const snippet of snippets) {
        byFile.set(fileName(snippet), snippet)
        yield* fs.writeFileString(NodePath.join(directory, fileName(snippet)), fileText(snippet))
      }
      yield* fs.writeFileString(NodePath.join(directory, "tsconfig.json"), JSON.stringify(tsconfig))
      const result = yield* exec(process.execPath, [tsc, "-p", directory, "--pretty", "false"], { cwd: directory })
      // `README_md_L36.ts(12,5): error TS2304: ...` → `README.md:47: error TS2304: ...`
      const errors = result.stdout.split("\n").filter((line) => line.length > 0).map((line) => {
        const match = /^(\S+?\.ts)\((\d+),\d+\): (.*)$/.exec(line)
        const snippet = match === null ? undefined : byFile.get(match[1]!)
        return snippet === undefined
          ? line
          : `${snippet.source}:${markdownLine(snippet, Number(match![2]))}: ${match![3]}`
      })
      expect(errors).toEqual([])
      expect(result.code).toBe(0)
    }).pipe(Effect.provide(NodeContext.layer)), 120_000)
})
