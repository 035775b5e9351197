import { FST_ERR_UPGRADE_OPTIONS } from '../errors'

/** Says what is wrong with an option's value, or `undefined` when nothing is. */
export type OptionCheck = (value: unknown) => string | undefined

/** The checks the built-in options use. */
export const is = {
  boolean: (value: unknown) => typeof value === 'boolean' ? undefined : 'must be a boolean',
  count: (value: unknown) => typeof value === 'number' && value >= 0 ? undefined : 'must be a number ≥ 0',
  integer: (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0 ? undefined : 'must be an integer ≥ 0',
  function: (value: unknown) => typeof value === 'function' ? undefined : 'must be a function',
  any: () => undefined,
  oneOf: (...allowed: unknown[]): OptionCheck => (value) => allowed.includes(value) ? undefined : `must be ${allowed.map((a) => JSON.stringify(a)).join(' or ')}`
}

/** Edit distance, for "did you mean": small keys only, so the quadratic table is tiny. */
function distance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = row
  }
  return previous[b.length]
}

function closest (key: string, known: string[]): string {
  const lower = key.toLowerCase()
  let best: string | undefined
  let bestDistance = 3
  for (const candidate of known) {
    const d = distance(lower, candidate.toLowerCase())
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best === undefined ? `known: ${known.join(', ')}` : `did you mean "${best}"?`
}

/**
 * Checks an options object against the options `known` by `where` (e.g. `websocket()`): an
 * unknown key, a likely typo among them, fails with the closest known one named.
 */
export function checkOptions (options: unknown, where: string, known: Record<string, OptionCheck>): void {
  if (options === undefined) return
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new FST_ERR_UPGRADE_OPTIONS(`${where} takes an options object, got ${String(options)}`)
  }
  const names = Object.keys(known)
  for (const [key, value] of Object.entries(options)) {
    if (!Object.hasOwn(known, key)) throw new FST_ERR_UPGRADE_OPTIONS(`${where} has no option "${key}": ${closest(key, names)}`)
    const problem = value === undefined ? undefined : known[key](value)
    if (problem !== undefined) throw new FST_ERR_UPGRADE_OPTIONS(`${where} ${key} ${problem}, got ${typeof value === 'function' ? 'a function' : JSON.stringify(value)}`)
  }
}
