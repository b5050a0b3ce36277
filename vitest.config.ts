import * as fs from "node:fs"
import * as path from "node:path"

import { defineConfig } from "vitest/config"

const root = import.meta.dirname
const packages = ["oauth", "testing", "sql", "cli"] as const

// Workspace packages resolve to their TypeScript sources (as the `source` export condition does for tsc), so tests
// never need a build first: `@dropbox-sign-effect/<package>` is `src/index.ts`, `.../<Module>` is `src/<Module>.ts`.
const alias = packages.flatMap((name) => [
  {
    find: new RegExp(`^@dropbox-sign-effect/${name}$`),
    replacement: path.join(root, "packages", name, "src", "index.ts")
  },
  {
    find: new RegExp(`^@dropbox-sign-effect/${name}/([A-Z][A-Za-z0-9]*)$`),
    replacement: path.join(root, "packages", name, "src", "$1.ts")
  }
])

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      ...packages.filter((name) => fs.existsSync(path.join(root, "packages", name, "test"))).map((name) => ({
        extends: true as const,
        test: { name, root: path.join(root, "packages", name), include: ["test/**/*.test.ts"] }
      })),
      {
        extends: true as const,
        test: {
          name: "integration",
          root: path.join(root, "test"),
          include: ["**/*.test.ts"],
          exclude: ["bench/**", "**/node_modules/**"]
        }
      }
    ],
    passWithNoTests: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    sequence: { concurrent: false },
    // Two workers on the two cores of CI: most files wait on sockets, child processes or the database, not the CPU.
    maxWorkers: 2
  }
})
