// The package's version, written by `pnpm version-packages` (scripts/version.ts) from package.json: a module cannot
// read its own package.json in both the ES module and the CommonJS build.
export const version = "0.1.0"
