import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t, { test } from 'tap'

// injectUpgrade and injectWS as users meet them: the example program, and the types. These do not
// depend on the Node line (test/line-independent.json). tsc on the fixture takes about 9 s alone,
// over 30 s (tap's default) on a loaded 2-core machine.
t.setTimeout(120000)

test('examples/inject.mjs, which imports the package by its name (the build), passes its checks and exits by itself', async (t) => {
  const { stdout } = await promisify(execFile)(process.execPath, [join(__dirname, '..', 'examples', 'inject.mjs')], { timeout: 30000 })
  t.match(stdout, /^426 Upgrade Required: .*echo\/1.*\ninjectWS and injectUpgrade: every check passed, with no port opened\n$/)
})

test('the types of both plugins load together: a program importing both type-checks with skipLibCheck off', async (t) => {
  const tsc = join(__dirname, '..', 'node_modules', '.bin', 'tsc')
  const result = await promisify(execFile)(tsc, ['-p', join(__dirname, 'fixtures', 'inject-types', 'tsconfig.json')], { timeout: 60000 })
    .catch((error: { stdout: string }) => error)
  t.equal(result.stdout, '', 'no type error')
})
