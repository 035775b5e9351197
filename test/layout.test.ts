import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { test } from 'tap'

// The rules the layout keeps (docs/contributing.md): no import cycle in lib/; an adapter imports
// only the kit, the public types, its own folder and packages; lib/node/ (the seam to Node's,
// Fastify's and ws's internals) is entered only through its index; no source file over 300 lines.
// LAYOUT_ROOT points the same checks at another tree, to see them fail on a planted violation.

const root = process.env.LAYOUT_ROOT ?? join(__dirname, '..')
const MAX_LINES = 300

function files (dir: string, pattern: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : files(path, pattern)
    return pattern.test(name) ? [path] : []
  })
}

/** The files of lib/ and types/ a file imports (type-only imports included), as paths from the root. */
function imports (file: string): string[] {
  const source = readFileSync(file, 'utf8')
  const found: string[] = []
  for (const match of source.matchAll(/(?:\bfrom\s+|\bimport\s+|\brequire\(\s*|\bimport\(\s*)'(\.[^']*)'/g)) {
    const base = resolve(dirname(file), match[1])
    const target = ['.ts', '.d.ts', '/index.ts'].map((ending) => base + ending).find((path) => existsSync(path))
    if (target !== undefined) found.push(relative(root, target))
  }
  return found
}

const lib = files(join(root, 'lib'), /\.ts$/)
const graph = new Map(lib.map((file) => [relative(root, file), imports(file)]))

test('lib/ has no import cycle', async (t) => {
  const state = new Map<string, 'open' | 'done'>()
  const cycles: string[] = []
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === 'done') return
    if (state.get(file) === 'open') {
      cycles.push([...path.slice(path.indexOf(file)), file].join(' → '))
      return
    }
    state.set(file, 'open')
    for (const next of graph.get(file) ?? []) if (graph.has(next)) visit(next, [...path, file])
    state.set(file, 'done')
  }
  for (const file of graph.keys()) visit(file, [])
  t.same(cycles, [])
})

test('an adapter imports only the kit, the public types, its own folder and packages', async (t) => {
  const wrong: string[] = []
  for (const [file, targets] of graph) {
    const folder = /^lib\/adapters\/[^/]+\//.exec(file)?.[0]
    if (folder === undefined) continue
    for (const target of targets) {
      if (target !== 'lib/kit/index.ts' && !target.startsWith('types/') && !target.startsWith(folder)) wrong.push(`${file} imports ${target}`)
    }
  }
  t.same(wrong, [])
})

test('lib/node/, the seam, is entered only through its index', async (t) => {
  const wrong: string[] = []
  for (const [file, targets] of graph) {
    if (file.startsWith('lib/node/')) continue
    for (const target of targets) if (target.startsWith('lib/node/') && target !== 'lib/node/index.ts') wrong.push(`${file} imports ${target}`)
  }
  t.same(wrong, [])
})

test(`no source file is over ${MAX_LINES} lines`, async (t) => {
  const sources = ['lib', 'types', 'test', 'examples', 'scripts', 'bench'].flatMap((dir) => files(join(root, dir), /\.(?:ts|js|mjs|cjs)$/))
  const long = sources.map((file) => [relative(root, file), readFileSync(file, 'utf8').split('\n').length - 1] as const)
    .filter(([, lines]) => lines > MAX_LINES).map(([file, lines]) => `${file}: ${lines}`)
  t.same(long, [])
})
