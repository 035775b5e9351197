'use strict'

// The load generators of bench/run.js's figures, each returning operations per second.
const { execFile } = require('node:child_process')
const { promisify } = require('node:util')
const autocannon = require('autocannon')
const { Connection } = require('./h2-client')
const ws = require('./ws-client')

/** HTTP/1.1 requests per second with autocannon; any error or non-2xx answer fails the run. */
async function requests (port, path, seconds, headers = {}) {
  const result = await autocannon({ url: `http://127.0.0.1:${port}${path}`, headers, connections: 50, duration: seconds })
  if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
    throw new Error(`autocannon ${path}: ${result.errors} errors, ${result.non2xx} non-2xx, ${result.timeouts} timeouts`)
  }
  return result.requests.total / result.duration
}

/** h2load over prior knowledge, 10 connections × 10 streams. */
async function h2load (port, path, seconds) {
  const { stdout } = await promisify(execFile)('h2load', ['-c', '10', '-m', '10', '-D', String(seconds), `http://127.0.0.1:${port}${path}`])
  const rate = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(stdout)
  const failed = /requests: .* (\d+) failed, (\d+) errored/.exec(stdout)
  if (rate === null || failed === null || failed[1] !== '0' || failed[2] !== '0') throw new Error(`h2load: ${stdout}`)
  return Number(rate[1])
}

/** HTTP/2 GETs per second from our own client, 10 connections × 10 streams, opened by upgrade or prior knowledge. */
async function h2requests (port, path, upgrade, seconds) {
  const connections = Array.from({ length: 10 }, () => new Connection(port, path, upgrade))
  await Promise.all(connections.map((connection) => connection.open))
  const rate = await ws.loop(100, seconds, (() => {
    let next = 0
    return () => connections[next++ % connections.length].get()
  })())
  for (const connection of connections) connection.close()
  return rate
}

/**
 * New connections per second, 20 at a time: each makes one request and closes. `how`: 'http1',
 * 'upgrade' (h2c, the answer on stream 1) or 'prior' (HTTP/2 prior knowledge, one GET).
 */
function connectionRate (port, path, how, seconds) {
  return ws.loop(20, seconds, async () => {
    if (how !== 'http1') {
      const connection = new Connection(port, path, how === 'upgrade')
      await connection.open
      if (how === 'prior') await connection.get()
      connection.close()
      return
    }
    const socket = ws.connect(port)
    await new Promise((resolve, reject) => {
      socket.on('error', reject)
      socket.on('close', () => { reject(new Error('connection closed')) })
      socket.on('data', resolve)
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)
    })
    socket.destroy()
  })
}

module.exports = { connectionRate, h2load, h2requests, requests }
