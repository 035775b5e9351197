import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test, type Test } from 'tap'
import ts from 'typescript'

// Runnable docs: every JavaScript or TypeScript block of the README is a complete program that
// this test runs, unless an HTML comment right before it says otherwise:
//   <!-- not a program: why -->        a shape or a sketch, not run
//   <!-- excerpt: examples/file.mjs --> a verbatim slice of that file, which is run instead
//   <!-- output -->                    (before a ```text block) what the program above prints
// Every examples/ program runs too, except the showcase (test/showcase*.test.ts). Programs import
// 'fastify-upgrade' by name, which Node resolves to this package's build (`npm run build` first),
// listen on PORT (0 here), talk to their own server and exit.

const root = join(__dirname, '..')
const PROGRAM = new Set(['js', 'javascript', 'mjs', 'cjs', 'ts', 'typescript', 'mts'])
const TYPESCRIPT = new Set(['ts', 'typescript', 'mts'])

interface Block {
  line: number
  lang: string
  code: string
  marker: string | undefined
}

/** The fenced blocks of a Markdown text, each with the HTML comment on the line before it, if any. */
function fencedBlocks (markdown: string): Block[] {
  const lines = markdown.split('\n')
  const found: Block[] = []
  let previous = ''
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i])
    if (open === null) {
      if (lines[i].trim() !== '') previous = lines[i].trim()
      continue
    }
    const close = lines.indexOf('```', i + 1)
    if (close === -1) throw new Error(`README.md:${i + 1}: a code block that does not end`)
    found.push({ line: i + 1, lang: open[1], code: lines.slice(i + 1, close).join('\n') + '\n', marker: /^<!-- (.*) -->$/.exec(previous)?.[1] })
    previous = ''
    i = close
  }
  return found
}

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs a program with this repository as its directory (where 'fastify-upgrade' names this package), on any free port. */
async function run (args: string[], stdin?: string): Promise<Run> {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, PORT: '0' }, timeout: 60_000 })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  child.stdin.end(stdin)
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  return { code, stdout, stderr }
}

/** Type checks TypeScript programs as a user's `.mts` files in this package would be, against types/index.d.ts. */
function typeCheck (files: Map<string, string>): string[] {
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    target: ts.ScriptTarget.ES2022,
    types: ['node'],
    skipLibCheck: true
  }
  const host = ts.createCompilerHost(options)
  const { fileExists, readFile, getSourceFile } = host
  host.fileExists = (name) => files.has(name) || fileExists(name)
  host.readFile = (name) => files.get(name) ?? readFile(name)
  host.getSourceFile = (name, version, ...rest) => {
    const text = files.get(name)
    return text === undefined ? getSourceFile(name, version, ...rest) : ts.createSourceFile(name, text, version)
  }
  const program = ts.createProgram([...files.keys()], options, host)
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
    if (diagnostic.file === undefined || diagnostic.start === undefined) return text
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
    return `${diagnostic.file.fileName}:${line + 1}: ${text}`
  })
}

/** Whether a program imports 'fastify-upgrade' by name and, if it listens, listens on PORT (so that runs in parallel never collide). */
function conventions (t: Test, code: string): void {
  t.match(code, /from 'fastify-upgrade'|require\('fastify-upgrade'\)/, "it imports 'fastify-upgrade' by name")
  if (code.includes('.listen(')) t.match(code, 'process.env.PORT', 'it listens on PORT')
}

const blocks = fencedBlocks(readFileSync(join(root, 'README.md'), 'utf8'))
const programs = blocks.filter((block) => PROGRAM.has(block.lang) && block.marker === undefined)
const examples = readdirSync(join(root, 'examples')).filter((name) => /\.[cm]?js$/.test(name) && name !== 'showcase.js')

test('every README block is a program, an excerpt of an example, a marked sketch or a shell command', async (t) => {
  for (const block of blocks) {
    const where = `README.md:${block.line}`
    if (block.marker === undefined) continue
    const [kind, detail] = block.marker.split(/:\s*/, 2) as [string, string | undefined]
    if (kind === 'not a program') {
      t.ok(PROGRAM.has(block.lang) && detail !== undefined && detail.length > 0, `${where}: a ${block.lang} block marked not a program, saying why`)
    } else if (kind === 'excerpt') {
      const file = join(root, detail ?? '')
      t.ok(detail?.startsWith('examples/') === true && existsSync(file), `${where}: the excerpt's file ${detail} is in examples/`)
      if (existsSync(file)) t.ok(('\n' + readFileSync(file, 'utf8')).includes('\n' + block.code), `${where}: a verbatim slice of ${detail}`)
    } else if (kind === 'output') {
      const before = blocks[blocks.indexOf(block) - 1]
      t.ok(block.lang === 'text' && before !== undefined && programs.includes(before), `${where}: a text block of what the program above prints`)
    } else {
      t.fail(`${where}: an unknown marker <!-- ${block.marker} -->`)
    }
  }
  t.ok(programs.length > 0, 'the README has programs')
  t.ok(examples.length > 0, 'examples/ has programs')
})

test('the README\'s TypeScript programs type check against types/index.d.ts', async (t) => {
  const files = new Map(programs.filter((block) => TYPESCRIPT.has(block.lang))
    .map((block) => [join(root, `README.md-line-${block.line}.mts`), block.code]))
  t.same(typeCheck(files), [], 'no type errors')
})

for (const block of programs) {
  test(`README.md:${block.line} runs and exits`, async (t) => {
    conventions(t, block.code)
    const typescript = TYPESCRIPT.has(block.lang)
    const source = typescript
      ? ts.transpileModule(block.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
      : block.code
    const type = typescript || /^import /m.test(block.code) ? 'module' : 'commonjs'
    const { code, stdout, stderr } = await run([`--input-type=${type}`], source)
    t.equal(code, 0, 'exit code 0', { stdout, stderr })
    t.equal(stderr, '', 'nothing on stderr')
    const output = blocks[blocks.indexOf(block) + 1]
    if (output?.marker === 'output') t.equal(stdout, output.code, 'prints what the README says')
    else t.not(stdout, '', 'prints what it got')
  })
}

for (const name of examples) {
  test(`examples/${name} runs and exits`, async (t) => {
    conventions(t, readFileSync(join(root, 'examples', name), 'utf8'))
    const { code, stdout, stderr } = await run([join('examples', name)])
    t.equal(code, 0, 'exit code 0', { stdout, stderr })
    t.equal(stderr, '', 'nothing on stderr')
    t.not(stdout, '', 'prints what it got')
  })
}
