import { join } from 'node:path'
import t from 'tap'
import { blocks, programs, root, typeCheck, TYPESCRIPT } from './docs-helpers'

// The TypeScript of README.md and docs/*.md, programs and blocks marked type-checked, checked
// against types/index.d.ts as a user's .mts files would be (test/docs-helpers.ts).
const checked = blocks.filter((block) => TYPESCRIPT.has(block.lang) && (programs.includes(block) || block.marker?.startsWith('type-checked:') === true))
// Building one TypeScript program over Node's and Fastify's types takes about 8 s alone on
// 2 cores, and three times that beside two busy processes: more than tap's default of 30 s.
t.setTimeout(120_000)

t.test('the TypeScript blocks type check against types/index.d.ts', async (t) => {
  t.ok(checked.length > 0, 'there are TypeScript blocks')
  const files = new Map(checked.map((block) => [join(root, `${block.file.replace('/', '-')}-line-${block.line}.mts`), block.code]))
  t.same(typeCheck(files), [], 'no type errors')
})
