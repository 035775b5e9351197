'use strict'

// `node bench/allocations.js <server kind> [handshakes]` (scripts/node-line.sh 26 node … for Node 26):
// what a WebSocket handshake allocates on a bench/server.js server, by function, from V8's sampling heap
// profiler with the objects collected since counted too (so garbage counts, not only what stays).
// After 1,000 handshakes of warm-up, it samples while `handshakes` (3,000) WebSockets are opened and
// held, 100 at a time, and prints the bytes per handshake, in all and for the top functions.
const { fork } = require('node:child_process')
const { join } = require('node:path')
const ws = require('./ws-client')

const [kind = 'upgrade-websocket', count = '3000'] = process.argv.slice(2)
const HANDSHAKES = Number(count)
const TOP = 25

const server = fork(join(__dirname, 'server.js'), [kind], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
const answer = () => new Promise((resolve) => server.once('message', resolve))

/** Bytes allocated by each function itself (`name file:line`), over the profile's tree. */
function byFunction (profile) {
  const sizes = new Map()
  const walk = (node) => {
    const { functionName, url, lineNumber } = node.callFrame
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\//, '')}:${lineNumber + 1}`
    sizes.set(key, (sizes.get(key) ?? 0) + node.selfSize)
    for (const child of node.children) walk(child)
  }
  walk(profile.head)
  return sizes
}

async function main () {
  const { port } = await answer()
  for (const socket of await ws.hold(port, '/up', 1000, 100)) socket.destroy()
  server.send('allocations-start')
  await answer()
  const held = await ws.hold(port, '/up', HANDSHAKES, 100)
  server.send('allocations-stop')
  const { profile } = await answer()
  for (const socket of held) socket.destroy()
  server.kill('SIGINT')
  const sizes = [...byFunction(profile)].sort((a, b) => b[1] - a[1])
  const total = sizes.reduce((sum, [, size]) => sum + size, 0)
  console.log(`${kind} on Node ${process.version}: ${Math.round(total / HANDSHAKES).toLocaleString('en')} bytes allocated per handshake (sampled)`)
  for (const [name, size] of sizes.slice(0, TOP)) console.log(`${String(Math.round(size / HANDSHAKES)).padStart(7)}  ${name}`)
}

main().catch((error) => {
  console.error(error)
  server.kill()
  process.exitCode = 1
})
