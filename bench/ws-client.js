'use strict'

// Small WebSocket load generators: handshakes on raw sockets (so the client costs little next to
// the server), echo round trips with ws.
const net = require('node:net')
const WebSocket = require('ws')

const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='

let source = 0
/**
 * A new loopback connection from one of 250 source addresses in turn. The client closes first, so
 * each connection leaves a TIME_WAIT entry for a minute: from one address, a few rounds of
 * thousands of connections per second run out of ephemeral ports and connect() slows to a crawl.
 */
function connect (port) {
  source = (source + 1) % 250
  return net.connect({ port, host: '127.0.0.1', localAddress: `127.0.1.${source + 1}` })
}

function handshakeRequest (port, path) {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${KEY}\r\n\r\n`
}

/** Opens one WebSocket up to its 101 and resolves with the open socket. */
function handshake (port, path) {
  return new Promise((resolve, reject) => {
    const socket = connect(port)
    let head = ''
    socket.setEncoding('latin1')
    socket.on('error', reject)
    socket.on('data', function onData (chunk) {
      head += chunk
      if (!head.includes('\r\n\r\n')) return
      socket.removeListener('data', onData)
      if (!head.startsWith('HTTP/1.1 101')) {
        socket.destroy()
        reject(new Error(`handshake answered ${head.slice(0, head.indexOf('\r\n'))}`))
        return
      }
      resolve(socket)
    })
    socket.write(handshakeRequest(port, path))
  })
}

/**
 * Runs `concurrency` loops of `step` for `seconds`; resolves with completed steps per second. A step
 * that fails is not counted; more than 1% failing fails the run.
 */
async function loop (concurrency, seconds, step) {
  const end = performance.now() + seconds * 1000
  let done = 0
  const failures = []
  const worker = async () => {
    while (performance.now() < end) {
      try {
        await step()
        done++
      } catch (error) {
        failures.push(error)
      }
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  if (failures.length > done / 100) throw new Error(`${failures.length} of ${failures.length + done} steps failed`, { cause: failures[0] })
  return done / ((performance.now() - start) / 1000)
}

/** WebSocket handshakes per second: open, then drop the connection, `concurrency` at a time. */
function handshakes (port, path, concurrency, seconds) {
  return loop(concurrency, seconds, async () => {
    const socket = await handshake(port, path)
    socket.destroy()
  })
}

/** Handshake times in ms: `concurrency` clients each opening and dropping WebSockets for `seconds`. */
async function latencies (port, path, concurrency, seconds) {
  const times = []
  await loop(concurrency, seconds, async () => {
    const start = performance.now()
    const socket = await handshake(port, path)
    times.push(performance.now() - start)
    socket.destroy()
  })
  return times
}

/** Opens `count` WebSockets, `concurrency` at a time, and resolves with the open sockets. */
async function hold (port, path, count, concurrency) {
  const sockets = []
  const worker = async () => {
    while (sockets.length < count) {
      const pending = sockets.length
      sockets.push(undefined)
      sockets[pending] = await handshake(port, path)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return sockets
}

/** Echo round trips per second of `size`-byte binary messages, one in flight per connection. */
async function echo (port, path, size, connections, seconds) {
  const payload = Buffer.alloc(size, 'x')
  const clients = await Promise.all(Array.from({ length: connections }, () => new Promise((resolve, reject) => {
    const client = new WebSocket(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false })
    client.on('open', () => { resolve(client) })
    client.on('error', reject)
  })))
  let received = 0
  let running = true
  for (const client of clients) {
    client.on('message', () => {
      received++
      if (running) client.send(payload)
    })
  }
  const start = performance.now()
  for (const client of clients) client.send(payload)
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
  running = false
  const rate = received / ((performance.now() - start) / 1000)
  for (const client of clients) client.terminate()
  return rate
}

module.exports = { connect, echo, handshake, handshakes, hold, latencies, loop }
