import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import t, { type Test } from 'tap'
import type ts from 'typescript'

// Runnable docs: every JavaScript or TypeScript block of README.md and docs/*.md is a complete
// program that a test runs, unless an HTML comment right before it says otherwise:
//   <!-- not a program: why -->          a shape or a sketch, neither run nor checked
//   <!-- type-checked: why -->           TypeScript that is type checked but not run
//   <!-- excerpt: examples/file.mjs -->  a verbatim slice of that file, which is run instead
//   <!-- output -->                      (before a ```text block) what the program above prints
// Every examples/ program runs too, except the showcase (test/showcase*.test.ts). Programs import
// 'fastify-upgrade' by name, which Node resolves to this package's build (`npm run build` first),
// listen on PORT (0 here), talk to their own server and exit.
//
// test/readme.test.ts checks the blocks' markers, the links and the requirement ids, and type
// checks; test/docs-programs-<n>.test.ts each run a share of the programs, so that tap runs the
// shares beside each other and beside the type check. Each test file costs a Node process that
// loads tap and TypeScript (about 2 s alone, 10 s on a busy machine), so there are few of them.

export const root = join(__dirname, '..')
export const PROGRAM = new Set(['js', 'javascript', 'mjs', 'cjs', 'ts', 'typescript', 'mts'])
export const TYPESCRIPT = new Set(['ts', 'typescript', 'mts'])

/** The documents whose blocks are programs: the README and every page of docs/. */
export const documents = ['README.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).sort().map((name) => `docs/${name}`)]

export interface Block {
  file: string
  line: number
  lang: string
  code: string
  marker: string | undefined
}

/** The fenced blocks of a Markdown text, each with the HTML comment on the line before it, if any. */
export function fencedBlocks (file: string, markdown: string): Block[] {
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
    if (close === -1) throw new Error(`${file}:${i + 1}: a code block that does not end`)
    found.push({ file, line: i + 1, lang: open[1], code: lines.slice(i + 1, close).join('\n') + '\n', marker: /^<!-- (.*) -->$/.exec(previous)?.[1] })
    previous = ''
    i = close
  }
  return found
}

export const texts = new Map(documents.map((file) => [file, readFileSync(join(root, file), 'utf8')]))
export const blocks = documents.flatMap((file) => fencedBlocks(file, texts.get(file) ?? ''))
export const programs = blocks.filter((block) => PROGRAM.has(block.lang) && block.marker === undefined)
export const examples = readdirSync(join(root, 'examples')).filter((name) => /\.[cm]?js$/.test(name) && name !== 'showcase.js').sort()

/** The block after this one in the same document, if any. */
export function next (block: Block): Block | undefined {
  const after = blocks[blocks.indexOf(block) + 1]
  return after?.file === block.file ? after : undefined
}

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

// Programs start Node and load Fastify: mostly CPU. Two at a time per file keeps a file's share
// short when the machine is idle without piling processes on a busy one.
const CONCURRENCY = 2
let running = 0
const waiting: Array<() => void> = []

async function slot<T> (work: () => Promise<T>): Promise<T> {
  if (running >= CONCURRENCY) await new Promise<void>((resolve) => waiting.push(resolve))
  running++
  try {
    return await work()
  } finally {
    running--
    waiting.shift()?.()
  }
}

/** Runs a program with this repository as its directory (where 'fastify-upgrade' names this package), on any free port. */
async function run (args: string[], stdin?: string): Promise<Run> {
  return await slot(async () => {
    const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, PORT: '0' }, timeout: 60_000 })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    child.stdin.end(stdin)
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    return { code, stdout, stderr }
  })
}

// TypeScript is loaded only by the files that need it: every process that loads it adds its 9 MB
// to the coverage data tap reads at the end.
async function typescript (): Promise<typeof ts> {
  return (await import('typescript')).default
}

/** Type checks TypeScript programs as a user's `.mts` files in this package would be, against types/index.d.ts. */
export async function typeCheck (files: Map<string, string>): Promise<string[]> {
  const ts = await typescript()
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

type Job = { block: Block } | { example: string }

/** Every program and example, in a fixed order, for the files that share them out. */
const jobs: Job[] = [...programs.map((block) => ({ block })), ...examples.map((example) => ({ example }))]

/**
 * Runs this file's share of the programs: file docs-programs-<n>.test.ts of k such files takes
 * every k-th job from the n-th. All its programs are started at once (two running at a time),
 * so a slow one does not hold up the next.
 */
export function runShare (filename: string): void {
  const files = readdirSync(__dirname).filter((name) => /^docs-programs-\d+\.test\.ts$/.test(name)).sort()
  const index = files.indexOf(basename(filename))
  if (index === -1) throw new Error(`${filename} is not a docs-programs-<n>.test.ts file`)
  const share = jobs.filter((_, i) => i % files.length === index)
  // A program takes 1 to 3 s on 2 cores; a share of seven, two at a time, took 3 to 10 s at a load
  // of 3 to 5, 19 s at a load of 11, and 26 to 33 s with two busy loops beside that
  // (measured). tap's default of 30 s for the file is too short; each program keeps its own 60 s.
  t.setTimeout(120_000)
  const started = share.map((job) => 'block' in job ? runBlock(job.block) : run([join('examples', job.example)]))
  share.forEach((job, i) => {
    if ('block' in job) {
      const { block } = job
      t.test(`${block.file}:${block.line} runs and exits`, async (t) => {
        conventions(t, block.code)
        const { code, stdout, stderr } = await started[i]
        t.equal(code, 0, 'exit code 0', { stdout, stderr })
        t.equal(stderr, '', 'nothing on stderr')
        const output = next(block)
        if (output?.marker === 'output') t.equal(stdout, output.code, `prints what ${block.file} says`)
        else t.not(stdout, '', 'prints what it got')
      })
    } else {
      t.test(`examples/${job.example} runs and exits`, async (t) => {
        conventions(t, readFileSync(join(root, 'examples', job.example), 'utf8'))
        const { code, stdout, stderr } = await started[i]
        t.equal(code, 0, 'exit code 0', { stdout, stderr })
        t.equal(stderr, '', 'nothing on stderr')
        t.not(stdout, '', 'prints what it got')
      })
    }
  })
}

async function runBlock (block: Block): Promise<Run> {
  const isTypeScript = TYPESCRIPT.has(block.lang)
  const ts = isTypeScript ? await typescript() : undefined
  const source = ts !== undefined
    ? ts.transpileModule(block.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
    : block.code
  const type = isTypeScript || /^import /m.test(block.code) ? 'module' : 'commonjs'
  return await run([`--input-type=${type}`], source)
}
