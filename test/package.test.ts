import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve, sep } from 'node:path'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'

// What a user gets: the packed tarball installed in a project outside the repository, with
// fastify from the registry, loaded from ESM, CommonJS and TypeScript on the running Node line.
const run = promisify(execFile)
const root = resolve(__dirname, '..')
const tsc = join(root, 'node_modules', '.bin', 'tsc')
let project = ''
let installWarnings = ''
// npm install (from the npm cache when it can) and two tsc runs take longer than tap's default.
t.setTimeout(240000)

/** Runs a command in the temp project; its stderr must stay empty, as a user would see it. */
async function sh (t: Test, file: string, args: string[]): Promise<string> {
  const { stdout, stderr } = await run(file, args, { cwd: project, timeout: 120000, maxBuffer: 1 << 24 })
  t.equal(stderr, '', `${[file, ...args].join(' ')} prints nothing on stderr`)
  return stdout
}

interface Packed { filename: string, files: Array<{ path: string }> }
let packed: string[] = []

t.before(async () => {
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('no dist/: run `npm run build` first (npm test does)')
  project = await mkdtemp(join(tmpdir(), 'fastify-upgrade-package-'))
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'commonjs' }))
  // Packs the build `npm test` made first (no rebuild under running tests).
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', project], { cwd: root })
  const { filename: tarball, files } = (JSON.parse(stdout) as Packed[])[0]!
  packed = files.map((file) => file.path).sort()
  const { stderr } = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', `./${tarball}`, 'fastify@5'], { cwd: project, timeout: 300000 })
  installWarnings = stderr
})
t.teardown(() => rm(project, { recursive: true, force: true }))

const esm = `import Fastify from 'fastify'
import fastifyUpgrade, { fastifyUpgrade as named, h2c, raw, tls, websocket } from 'fastify-upgrade'
import * as all from 'fastify-upgrade'

const app = Fastify()
await app.register(fastifyUpgrade, { protocols: [websocket(), h2c(), raw({ name: 'echo', tokens: ['echo/1'] })] })
await app.ready()
await app.close()
console.log(JSON.stringify({
  named: [typeof h2c, typeof raw, typeof tls, typeof websocket],
  same: named === fastifyUpgrade && all.default === fastifyUpgrade,
  namespace: Object.keys(all).filter((key) => key !== 'module.exports').sort()
}))
`

const expected = {
  named: ['function', 'function', 'function', 'function'],
  same: true,
  namespace: ['cameThroughProxy', 'default', 'fastifyUpgrade', 'h2c', 'raw', 'tls', 'websocket']
}

t.test('installing the tarball prints nothing about the package (no install scripts to approve)', async (t) => {
  t.same(installWarnings.split('\n').filter((line) => line.includes('fastify-upgrade')), [])
  // What npm asks users to approve, on npm versions that ask: the build runs at prepack instead.
  const { scripts } = JSON.parse(await readFile(join(project, 'node_modules', 'fastify-upgrade', 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  t.same(['preinstall', 'install', 'postinstall', 'prepare'].filter((name) => name in scripts), [])
})

t.test('a plain .mjs app imports the default and the named exports', async (t) => {
  await writeFile(join(project, 'app.mjs'), esm)
  t.same(JSON.parse(await sh(t, process.execPath, ['app.mjs'])), expected)
})

t.test('a .cjs app requires the plugin function itself and registers it', async (t) => {
  await writeFile(join(project, 'app.cjs'), `const Fastify = require('fastify')
const fastifyUpgrade = require('fastify-upgrade')
const { websocket } = require('fastify-upgrade')

const app = Fastify()
app.register(require('fastify-upgrade'), { protocols: [websocket(), fastifyUpgrade.h2c()] })
app.ready().then(() => app.close()).then(() => {
  console.log(JSON.stringify([typeof fastifyUpgrade, fastifyUpgrade.default === fastifyUpgrade, fastifyUpgrade.fastifyUpgrade === fastifyUpgrade, typeof fastifyUpgrade.raw, typeof fastifyUpgrade.tls]))
})
`)
  t.same(JSON.parse(await sh(t, process.execPath, ['app.cjs'])), ['function', true, true, 'function', 'function'])
})

/** The TypeScript programs the tests below run, by file, with the module setting each is checked under. */
const programs = new Map<string, { module: 'nodenext' | 'commonjs', source: string }>([
  // An ES module with the same imports as app.mjs.
  ['nodenext.mts', { module: 'nodenext', source: esm }],
  // A CommonJS file with import = require.
  ['nodenext.cts', {
    module: 'nodenext',
    source: `import Fastify = require('fastify')
import fastifyUpgrade = require('fastify-upgrade')

const app = Fastify()
app.register(fastifyUpgrade, { protocols: [fastifyUpgrade.websocket()] })
app.ready().then(() => app.close()).then(() => console.log(typeof fastifyUpgrade.raw))
`
  }],
  // The README's imports, with esModuleInterop.
  ['commonjs.ts', {
    module: 'commonjs',
    source: `import Fastify from 'fastify'
import fastifyUpgrade, { websocket } from 'fastify-upgrade'

const app = Fastify()
app.register(fastifyUpgrade, { protocols: [websocket()] })
app.ready().then(() => app.close()).then(() => console.log(typeof fastifyUpgrade, typeof websocket))
`
  }],
  // The kit, as an adapter author imports it.
  ['kit.mts', {
    module: 'nodenext',
    source: `import { checkOptions, is, type Offer } from 'fastify-upgrade/kit'
import type { ProtocolAdapter } from 'fastify-upgrade'
const offers: Offer[] = []
const adapter: ProtocolAdapter = { name: 'mine', tokens: ['mine/1'], switch () {} }
checkOptions({ retries: 1 }, 'mine()', { retries: is.count })
console.log(offers.length, adapter.name)
`
  }]
])
const checks = new Map<string, Promise<{ stdout: string, stderr: string }>>()
const settings = { nodenext: { module: 'nodenext' }, commonjs: { module: 'commonjs', esModuleInterop: true } }

/**
 * Type-checks `file` under strict settings (the package's own types are checked by `npm test`)
 * and runs its output. The programs of one module setting are checked together: one tsc run
 * takes seconds of CPU.
 */
async function typescript (t: Test, file: string): Promise<string> {
  const { module } = programs.get(file)!
  if (!checks.has(module)) checks.set(module, check(module))
  const { stdout, stderr } = await checks.get(module)!
  t.equal(stdout + stderr, '', `tsc with module ${module} prints nothing`)
  return sh(t, process.execPath, [join('out', file.replace(/\.mts$/, '.mjs').replace(/\.cts$/, '.cjs').replace(/\.ts$/, '.js'))])
}

async function check (module: 'nodenext' | 'commonjs'): Promise<{ stdout: string, stderr: string }> {
  const files = [...programs].filter(([, program]) => program.module === module).map(([file]) => file)
  for (const file of files) await writeFile(join(project, file), programs.get(file)!.source)
  const config = `tsconfig.${module}.json`
  await writeFile(join(project, config), JSON.stringify({
    compilerOptions: { target: 'es2022', strict: true, skipLibCheck: true, outDir: 'out', rootDir: '.', ...settings[module] },
    files
  }))
  return run(tsc, ['-p', config], { cwd: project, timeout: 120000 })
}

t.test('TypeScript with module nodenext: an ES module with the same imports', async (t) => {
  const output = await typescript(t, 'nodenext.mts')
  t.same(JSON.parse(output), expected)
})

t.test('TypeScript with module nodenext: a CommonJS file with import = require', async (t) => {
  const output = await typescript(t, 'nodenext.cts')
  t.equal(output.trim(), 'function')
})

t.test('TypeScript with module commonjs and esModuleInterop: the README imports', async (t) => {
  const output = await typescript(t, 'commonjs.ts')
  t.equal(output.trim(), 'function function')
})

t.test('the kit imports from ESM, CommonJS and TypeScript (nodenext) as fastify-upgrade/kit', async (t) => {
  await writeFile(join(project, 'kit.mjs'), `import { parseUpgrade, WebSocketOpener } from 'fastify-upgrade/kit'
import kit from 'fastify-upgrade/kit'
console.log(JSON.stringify([parseUpgrade('h2c, websocket').map((offer) => offer.key), typeof WebSocketOpener, typeof kit.checkOptions]))
`)
  t.same(JSON.parse(await sh(t, process.execPath, ['kit.mjs'])), [['h2c', 'websocket'], 'function', 'function'])
  await writeFile(join(project, 'kit.cjs'), "console.log(typeof require('fastify-upgrade/kit').proxyPolicy)\n")
  t.equal((await sh(t, process.execPath, ['kit.cjs'])).trim(), 'function')
  const output = await typescript(t, 'kit.mts')
  t.equal(output.trim(), '0 mine')
})

t.test('the tarball holds the build, its sources for the source maps, the types and the docs', async (t) => {
  const files = packed
  for (const file of ['LICENSE', 'README.md', 'package.json', 'types/index.d.ts', 'dist/index.js', 'lib/index.ts']) {
    t.ok(files.includes(file), `${file} is packed`)
  }
  const unexpected = files.filter((file) => !/^(dist\/.+\.js(\.map)?|entry\/[a-z]+\.js|lib\/.+\.ts|types\/[a-z]+\.d\.ts|docs\/[a-z0-9-]+\.md|LICENSE|README\.md|package\.json)$/.test(file))
  t.same(unexpected, [], 'nothing else: no tests, examples or configuration')
  // Every map's sources are in the tarball, so a stack trace or a debugger can show them.
  const missing: string[] = []
  for (const map of files.filter((file) => file.endsWith('.map'))) {
    const { sources } = JSON.parse(await readFile(join(root, map), 'utf8')) as { sources: string[] }
    for (const source of sources) {
      const path = join(map, '..', source)
      if (!files.includes(path)) missing.push(`${map} -> ${path}`)
    }
  }
  t.same(missing, [], 'every source a map names is packed')
})

t.test('installed without its build, as from a git URL, loading it says so and how to install', async (t) => {
  // The installed package, less dist/: what a git URL install leaves (npm builds nothing for it).
  const sources = join(project, 'from-git')
  await cp(join(project, 'node_modules', 'fastify-upgrade'), sources, { recursive: true, filter: (path) => !path.includes(`${sep}dist`) })
  await symlink(join(project, 'node_modules'), join(sources, 'node_modules'))
  const message = /^fastify-upgrade is installed without its build \(dist\/ is missing\), as an install from a git URL leaves it\. Build it in a clone and install that/
  for (const [entry, load] of [['.', 'require'], ['./kit.js', 'require'], ['.', 'import']]) {
    const script = load === 'require' ? `require(${JSON.stringify(join(sources, entry === '.' ? '' : 'entry', entry))})` : `await import(${JSON.stringify(join(sources, 'entry', 'index.js'))})`
    const failed = await run(process.execPath, [load === 'require' ? '-e' : '--input-type=module', ...(load === 'require' ? [script] : ['-e', script])], { cwd: project })
      .then(() => '', (error: { stderr: string }) => error.stderr)
    t.match(failed, /code: 'FST_ERR_UPGRADE_NOT_BUILT'/, `${load} ${entry}`)
    t.match(failed.split('\n').find((line) => line.startsWith('Error: ')) ?? '', new RegExp(`^Error: ${message.source.slice(1)}`))
  }
})
