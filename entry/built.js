'use strict'

// The package runs from dist/, which `npm run build` makes and `npm pack` includes. An install
// from a git URL has sources only (npm builds nothing for it without an install script, which
// would ask every user of the tarball for approval): say so, and how to install, rather than
// Node's "Cannot find module .../dist/index.js". Plain JavaScript: lib/errors.ts is in dist/ too.
const { existsSync } = require('node:fs')
const { join } = require('node:path')

if (!existsSync(join(__dirname, '..', 'dist', 'index.js'))) {
  const error = new Error('fastify-upgrade is installed without its build (dist/ is missing), as an install from a git URL ' +
    'leaves it. Build it in a clone and install that: `npm install && npm run build` there, then `npm install <path to the clone>` ' +
    '(or `npm pack` there and install the tarball); see the README, Install.')
  error.code = 'FST_ERR_UPGRADE_NOT_BUILT'
  throw error
}
