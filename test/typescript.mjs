// tap's TypeScript loader (package.json: tap.node-arg), in place of tap's ts-node plugin, which
// spent seconds of CPU in every test process. TypeScript transpiles each test and lib/ file as
// ts-node did (tsconfig.json's options; types are checked by `npm run typecheck`), with an inline
// source map, so coverage is counted on the .ts lines and `c8 ignore` comments keep their place.
// The output is kept in node_modules/.cache, one entry per file, keyed by all it depends on: a
// test process loads the compiler only when a file changed.
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import module from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = module.createRequire(import.meta.url)
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cache = join(root, 'node_modules', '.cache', 'fastify-upgrade-tests')
const config = readFileSync(join(root, 'tsconfig.json'), 'utf8')
const inputs = [readFileSync(fileURLToPath(import.meta.url), 'utf8'), config, require('typescript/package.json').version]
let transpile

function compiler () {
  const ts = require('typescript')
  const { options } = ts.convertCompilerOptionsFromJson(ts.parseConfigFileTextToJson('tsconfig.json', config).config.compilerOptions, root)
  // Files here are CommonJS (package.json "type"), which module node16 emits as module commonjs does.
  // The map sits in the output, which has no outDir: its sources are the files themselves.
  const compilerOptions = { ...options, module: ts.ModuleKind.CommonJS, sourceMap: false, inlineSourceMap: true, outDir: undefined, rootDir: undefined }
  return (source, fileName) => ts.transpileModule(source, { fileName, compilerOptions }).outputText
}

function javascript (source, filename) {
  const hash = createHash('sha256')
  for (const input of [...inputs, filename, source]) hash.update(input).update('\0')
  const key = `// ${hash.digest('hex')}\n`
  const entry = join(cache, `${createHash('sha256').update(filename).digest('hex')}.js`)
  try {
    const kept = readFileSync(entry, 'utf8')
    if (kept.startsWith(key)) return kept.slice(key.length)
  } catch {}
  transpile ??= compiler()
  const code = transpile(source, filename)
  // Written whole, then renamed: the tap jobs running beside this one read a complete entry or none.
  mkdirSync(cache, { recursive: true })
  const partial = `${entry}.${process.pid}`
  writeFileSync(partial, key + code)
  renameSync(partial, entry)
  return code
}

// The hooks tap's coverage uses on this line (@tapjs/processinfo: registerHooks from Node 24.13,
// buggy before), so that this one chains with it.
const [major, minor] = process.versions.node.split('.').map(Number)
if (major > 24 || (major === 24 && minor >= 13)) {
  // One hook, in this thread, for import (tap starts each test through the ES module loader: it
  // passes --import) and require alike. tap's coverage hook is the next one.
  module.registerHooks({
    load (url, context, nextLoad) {
      if (!url.endsWith('.ts')) return nextLoad(url, context)
      const { source } = nextLoad(url, { ...context, format: 'commonjs' })
      return { format: 'commonjs', source: javascript(String(source), fileURLToPath(url)), shortCircuit: true }
    }
  })
} else {
  // require() is Node's CommonJS loader alone. tap's coverage hooked '.ts' before this runs
  // (tap's --import order): this wraps its loader, which so still sees every file.
  const load = require.extensions['.ts'] ?? require.extensions['.js']
  require.extensions['.ts'] = (file, filename) => {
    const compile = file._compile
    file._compile = (source) => {
      file._compile = compile
      return file._compile(javascript(source, filename), filename)
    }
    load(file, filename)
  }
  module.register('./typescript-hooks.mjs', import.meta.url)
}
