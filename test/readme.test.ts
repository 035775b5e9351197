import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import t, { test } from 'tap'
import { blocks, documents, examples, next, PROGRAM, programs, root, texts, typeCheck, TYPESCRIPT } from './docs-helpers'

// The README and docs/*.md: every code block is accounted for (test/docs-helpers.ts says how),
// every relative link leads somewhere, every requirement id the code cites is defined in
// docs/requirements.md, and the TypeScript type checks. The programs run in
// test/docs-programs-<n>.test.ts.

// Building one TypeScript program over Node's and Fastify's types takes 3 to 9 s at a load of
// 3 to 5 on 2 cores, 17 s at 11, and 25 to 41 s with two busy loops beside that (measured): more
// than tap's default of 30 s.
t.setTimeout(120_000)

test('every block is a program, an excerpt of an example, a marked sketch or a shell command', async (t) => {
  for (const block of blocks) {
    const where = `${block.file}:${block.line}`
    if (block.marker === undefined) continue
    const [kind, detail] = block.marker.split(/:\s*/, 2) as [string, string | undefined]
    if (kind === 'not a program') {
      t.ok(PROGRAM.has(block.lang) && detail !== undefined && detail.length > 0, `${where}: a ${block.lang} block marked not a program, saying why`)
    } else if (kind === 'type-checked') {
      t.ok(TYPESCRIPT.has(block.lang) && detail !== undefined && detail.length > 0, `${where}: a TypeScript block checked but not run, saying why`)
    } else if (kind === 'excerpt') {
      const file = join(root, detail ?? '')
      t.ok(detail?.startsWith('examples/') === true && existsSync(file), `${where}: the excerpt's file ${detail} is in examples/`)
      if (existsSync(file)) t.ok(('\n' + readFileSync(file, 'utf8')).includes('\n' + block.code), `${where}: a verbatim slice of ${detail}`)
    } else if (kind === 'output') {
      const before = blocks[blocks.indexOf(block) - 1]
      t.ok(block.lang === 'text' && before !== undefined && programs.includes(before) && next(before) === block, `${where}: a text block of what the program above prints`)
    } else {
      t.fail(`${where}: an unknown marker <!-- ${block.marker} -->`)
    }
  }
  t.ok(programs.some((block) => block.file === 'README.md'), 'the README has programs')
  t.ok(examples.length > 0, 'examples/ has programs')
})

/** GitHub's anchors for a Markdown text: its headings, as GitHub spells them, and explicit ids. */
function anchors (markdown: string): Set<string> {
  const found = new Set<string>()
  const seen = new Map<string, number>()
  let fenced = false
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced
    if (fenced) continue
    const heading = /^#{1,6}\s+(.*?)\s*#*$/.exec(line)
    if (heading !== null) {
      const slug = heading[1].toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')
      const count = seen.get(slug) ?? 0
      seen.set(slug, count + 1)
      found.add(count === 0 ? slug : `${slug}-${count}`)
    }
    for (const id of line.matchAll(/<a id="([^"]+)"/g)) found.add(id[1])
  }
  return found
}

/** The Markdown links of a text outside code blocks and code spans, with their line. */
function links (markdown: string): Array<{ line: number, target: string }> {
  const found: Array<{ line: number, target: string }> = []
  let fenced = false
  markdown.split('\n').forEach((line, i) => {
    if (line.startsWith('```')) fenced = !fenced
    if (fenced) return
    for (const link of line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)) found.push({ line: i + 1, target: link[1] })
  })
  return found
}

test('every relative link leads to a file of the repository, and an anchor to a heading of it', async (t) => {
  let count = 0
  for (const file of documents) {
    for (const { line, target } of links(texts.get(file) ?? '')) {
      if (/^[a-z]+:/i.test(target)) continue
      count++
      const [path, fragment] = target.split('#', 2) as [string, string | undefined]
      const resolved = path === '' ? file : relative(root, join(root, dirname(file), path))
      const where = `${file}:${line}: ${target}`
      if (!t.ok(existsSync(join(root, resolved)), `${where} exists`)) continue
      if (fragment !== undefined && resolved.endsWith('.md')) {
        t.ok(anchors(readFileSync(join(root, resolved), 'utf8')).has(fragment), `${where}: ${resolved} has #${fragment}`)
      } else if (fragment !== undefined) {
        t.fail(`${where}: an anchor into a file that is not Markdown`)
      } else if (path.endsWith('/')) {
        t.ok(statSync(join(root, resolved)).isDirectory(), `${where} is a directory`)
      }
    }
  }
  t.ok(count > 0, 'the docs have relative links')
})

const ID = /\b[USTHEW][0-9]{1,2}\b/g

/** Every file under a folder of the repository. */
function filesUnder (folder: string): string[] {
  return readdirSync(join(root, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
}

test('every requirement id cited in lib/, test/ and the docs is defined in docs/requirements.md', async (t) => {
  const requirements = texts.get('docs/requirements.md') ?? ''
  const defined = [...requirements.matchAll(/^- <a id="([USTHEW][0-9]{1,2})"><\/a>\*\*\1\*\* /gm)].map((match) => match[1])
  t.same(defined, [...new Set(defined)], 'each id is defined once')
  t.ok(defined.length >= 40, 'the requirements are all there')
  const cited = new Map<string, string>()
  for (const file of [...filesUnder('lib'), ...filesUnder('test'), ...documents]) {
    for (const id of readFileSync(join(root, file), 'utf8').matchAll(ID)) if (!cited.has(id[0])) cited.set(id[0], file)
  }
  t.ok(cited.size > 0, 'the code cites requirement ids')
  for (const [id, file] of cited) t.ok(defined.includes(id), `${id} (cited in ${file}) is defined`)
})

test('the TypeScript blocks type check against types/index.d.ts', async (t) => {
  // Programs, and blocks marked type-checked, as a user's .mts files in this package would be.
  const checked = blocks.filter((block) => TYPESCRIPT.has(block.lang) && (programs.includes(block) || block.marker?.startsWith('type-checked:') === true))
  t.ok(checked.length > 0, 'there are TypeScript blocks')
  const files = new Map(checked.map((block) => [join(root, `${block.file.replace('/', '-')}-line-${block.line}.mts`), block.code]))
  t.same(await typeCheck(files), [], 'no type errors')
})
