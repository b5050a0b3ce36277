import type { Duration } from "effect"
import { Duration as D } from "effect"

const units: ReadonlyArray<readonly [string, number]> = [["d", 86_400], ["h", 3_600], ["m", 60], ["s", 1]]

/**
 * A short human duration: the two largest units (`1h 0m`, `59m 58s`, `4s`); below ten seconds one decimal (`2.9s`),
 * since the demo's tokens live for seconds.
 *
 * @internal
 */
export const duration = (input: Duration.DurationInput): string => {
  const millis = Math.max(0, D.toMillis(input))
  if (millis < 10_000) return `${(Math.floor(millis / 100) / 10).toFixed(millis % 1000 === 0 ? 0 : 1)}s`
  let rest = Math.floor(millis / 1000)
  const parts: Array<string> = []
  for (const [unit, seconds] of units) {
    const value = Math.floor(rest / seconds)
    rest -= value * seconds
    if (parts.length > 0 || value > 0) parts.push(`${value}${unit}`)
    if (parts.length === 2) break
  }
  return parts.join(" ")
}

/**
 * `expires in 59m 58s` or `expired 3m 2s ago`.
 *
 * @internal
 */
export const expiry = (remainingMillis: number): string =>
  remainingMillis > 0 ? `in ${duration(remainingMillis)}` : `expired ${duration(-remainingMillis)} ago`

/**
 * Left-aligned columns separated by two spaces.
 *
 * @internal
 */
export const table = (rows: ReadonlyArray<ReadonlyArray<string>>): ReadonlyArray<string> => {
  const widths = rows.reduce<ReadonlyArray<number>>(
    (acc, row) => row.map((cell, i) => Math.max(acc[i] ?? 0, cell.length)),
    []
  )
  return rows.map((row) => row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)).join("  "))
}

/**
 * `59m 58s` or `expired 3m 2s ago`: for a column titled "expires in".
 *
 * @internal
 */
export const expiresIn = (remainingMillis: number): string =>
  remainingMillis > 0 ? duration(remainingMillis) : `expired ${duration(-remainingMillis)} ago`
