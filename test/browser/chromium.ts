/**
 * Debian's Chromium driven by playwright-core: one browser per test file, a fresh context (cookies, storage) per
 * test, and a screenshot plus the page's HTML saved to a temporary folder when a test fails.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

import { Context, Effect, Layer } from "effect"
import type { Browser, Page } from "playwright-core"
import { chromium } from "playwright-core"

export const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"

export const available = fs.existsSync(executablePath)

/** What to say when Chromium is missing: tests skip locally and fail under `CI=true`. */
export const missing = [
  "",
  "!".repeat(100),
  `!!! Chromium is not installed at ${executablePath}: the browser tests are SKIPPED.`,
  "!!! Install it with `apt-get install -y chromium` (.ci/run does) or set CHROMIUM_PATH.",
  "!".repeat(100),
  ""
].join("\n")

/**
 * The flags keep Chromium off the network it would otherwise reach at start (updates, sync, field trials), which this
 * machine's closed network refuses slowly. Playwright gives every launch a fresh user-data-dir.
 */
const args = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

export class Chromium extends Context.Tag("test/browser/Chromium")<Chromium, Browser>() {}

export const layer: Layer.Layer<Chromium> = Layer.scoped(
  Chromium,
  Effect.acquireRelease(
    Effect.promise(() => chromium.launch({ executablePath, args })),
    (browser) => Effect.promise(() => browser.close())
  )
)

let artifacts: string | undefined

/** Saves what the page shows, and says where. */
const saveArtifacts = (page: Page, name: string) =>
  Effect.promise(async () => {
    artifacts ??= fs.mkdtempSync(path.join(os.tmpdir(), "example-web-browser-"))
    const base = path.join(artifacts, name.replace(/[^A-Za-z0-9]+/g, "-").slice(0, 80))
    const saved: Array<string> = []
    try {
      await page.screenshot({ path: `${base}.png`, fullPage: true })
      saved.push(`${base}.png`)
    } catch (error) {
      saved.push(`(no screenshot: ${String(error)})`)
    }
    try {
      fs.writeFileSync(`${base}.html`, `<!-- ${page.url()} -->\n${await page.content()}`)
      saved.push(`${base}.html`)
    } catch (error) {
      saved.push(`(no HTML: ${String(error)})`)
    }
    console.error(`Browser test "${name}" failed; the page is saved in:\n  ${saved.join("\n  ")}`)
  })

/** Runs `body` with a page in a fresh browser context; on failure saves the page before the context closes. */
export const withPage = <A, E, R>(name: string, body: (page: Page) => Effect.Effect<A, E, R>) =>
  Effect.flatMap(Chromium, (browser) =>
    Effect.acquireUseRelease(
      Effect.promise(() => browser.newContext()),
      (context) =>
        Effect.flatMap(Effect.promise(() => context.newPage()), (page) => {
          page.setDefaultTimeout(15_000)
          return body(page).pipe(
            Effect.onExit((exit) => exit._tag === "Failure" ? saveArtifacts(page, name) : Effect.void)
          )
        }),
      (context) => Effect.promise(() => context.close())
    ))

/** A Playwright step; its rejection fails the test (with the page saved). */
export const step = <A>(run: () => Promise<A>): Effect.Effect<A> => Effect.promise(run)
