/**
 * TypeScript blocks of a Markdown file, and the `@example`s of the sources, as files to type-check.
 *
 * The convention: a block is a complete module (its own imports). Names that the prose says come from elsewhere
 * (`accountId`, the `code` of a callback, ...) are declared in an HTML comment right before the block, invisible
 * on the rendered page and placed at the top of the block's file:
 *
 * ````md
 * <!-- declare:
 * const accountId: AccountId.AccountId
 * const code: string
 * -->
 * ```ts
 * ...
 * ```
 * ````
 *
 * Each line of the comment is one declaration (`<!-- declare: const code: string -->` for a single one), placed as a
 * `declare` line. Every `ts`/`typescript` block is compiled; there is no way to skip one.
 */

/** One TypeScript block of a Markdown file. */
export interface Snippet {
  /** The Markdown file, relative to the repository root. */
  readonly source: string
  /** The line of the Markdown file where the block's code starts (1-based). */
  readonly line: number
  /** The `declare` lines from the comment before the block. */
  readonly prelude: ReadonlyArray<string>
  /** The block's code. */
  readonly code: string
}

const fence = /^(`{3,}|~{3,})\s*([\w-]*)/

/** The declarations of the `<!-- declare: ... -->` comment that ends on the line before `fenceIndex`. */
const preludeBefore = (lines: ReadonlyArray<string>, fenceIndex: number): ReadonlyArray<string> => {
  const end = fenceIndex - 1
  if (end < 0 || !lines[end]!.trimEnd().endsWith("-->")) return []
  let start = end
  while (start >= 0 && !lines[start]!.includes("<!--")) start--
  const comment = /^\s*<!--\s*declare:([\s\S]*?)-->\s*$/.exec(lines.slice(start, end + 1).join("\n"))
  if (comment === null) return []
  return comment[1]!.split("\n").map((line) => line.trim()).filter((line) => line.length > 0).map((line) =>
    `declare ${line}`
  )
}

/** Every `ts`/`typescript` block of `markdown`, with its prelude. */
export const extract = (source: string, markdown: string): ReadonlyArray<Snippet> => {
  const lines = markdown.split("\n")
  const snippets: Array<Snippet> = []
  let index = 0
  while (index < lines.length) {
    const open = fence.exec(lines[index]!)
    if (open === null) {
      index++
      continue
    }
    const [, marker, language] = open
    const close = lines.findIndex((text, at) => at > index && text.trimEnd() === marker)
    const end = close === -1 ? lines.length : close
    if (language === "ts" || language === "typescript") {
      snippets.push({
        source,
        line: index + 2,
        prelude: preludeBefore(lines, index),
        code: lines.slice(index + 1, end).join("\n")
      })
    }
    index = end + 1
  }
  return snippets
}

/**
 * Every `@example` of a TypeScript source: the fenced block that follows the tag in a JSDoc comment, without the
 * comment's ` * ` margin. Examples are complete modules and take no prelude.
 */
export const extractExamples = (source: string, typescript: string): ReadonlyArray<Snippet> => {
  const lines = typescript.split("\n")
  const snippets: Array<Snippet> = []
  const margin = /^\s*\* ?/
  for (let index = 0; index < lines.length; index++) {
    if (!/^\s*\*\s*@example\b/.test(lines[index]!)) continue
    const open = lines.findIndex((text, at) => at > index && /^\s*\*\s*```/.test(text))
    if (open === -1 || !/^\s*\*\s*```(ts|typescript)\s*$/.test(lines[open]!)) continue
    const close = lines.findIndex((text, at) => at > open && /^\s*\*\s*```\s*$/.test(text))
    if (close === -1) continue
    snippets.push({
      source,
      line: open + 2,
      prelude: [],
      code: lines.slice(open + 1, close).map((text) => text.replace(margin, "")).join("\n")
    })
    index = close
  }
  return snippets
}

/** The file a snippet is compiled as: the prelude, then the code. */
export const fileText = (snippet: Snippet): string => [...snippet.prelude, snippet.code, ""].join("\n")

/** Maps a line of the compiled file back to its line in the Markdown file. */
export const markdownLine = (snippet: Snippet, fileLine: number): number =>
  snippet.line + fileLine - 1 - snippet.prelude.length

/** A file name that says where the snippet comes from: `README.md` line 36 → `README_md_L36.ts`. */
export const fileName = (snippet: Snippet): string => `${snippet.source.replace(/[^\w]+/g, "_")}_L${snippet.line}.ts`
