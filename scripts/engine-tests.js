'use strict'
// `npm run test:engine`: tap on the tests whose outcome depends on the Node line, which is every
// test file but those test/line-independent.json lists (the package, the README and example
// programs, Chromium, the real proxies, the showcase: .ci/run runs them once, in `npm test` on
// one line). Coverage is checked as in `npm test`: test/coverage-map.js picks this line's lib/node/.
// Further arguments go to tap.
const { spawnSync } = require('node:child_process')
const { join } = require('node:path')

const root = join(__dirname, '..')
const once = require('../test/line-independent.json')
const tap = join(root, 'node_modules', '.bin', 'tap')
const { status, signal } = spawnSync(tap, [...once.map((file) => `--exclude=${file}`), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' })
process.exitCode = signal === null ? status : 1
