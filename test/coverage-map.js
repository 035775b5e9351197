'use strict'

// Coverage is measured on the TypeScript sources, whichever engine test loads them. Some of lib/node/
// runs on some Node lines only: each line's run measures what it can run, as lib/node/probe.ts
// finds it (in the build that `npm test` makes before tap runs).
const { node } = require('../dist/node/probe.js')
const lineIndependent = new Set(require('./line-independent.json'))

const files = [
  'lib/*.ts',
  'lib/{in,kit,route,switch,registry}/*.ts',
  'lib/adapters/**/*.ts',
  'lib/node/{index,connection,extended-connect,fastify,http2-session,in-memory,probe,upgrade-path,upgrade-request,ws}.ts',
  node.readsBodies ? 'lib/node/node-body.ts' : 'lib/node/raw-body.ts'
]
if (node.filters) files.push('lib/node/pre-filter.ts')

// The tests test/line-independent.json lists drive the build (the package, programs, other
// processes), not lib/: neither they nor the processes they start collect coverage, which costs
// each process about a CPU-second. The other tests cover lib/ alone, as `npm run test:engine` checks.
module.exports = (test) => lineIndependent.has(test) ? null : files
