'use strict'

// WebSockets over HTTP/2 streams (RFC 8441) for the benchmarks: all of a run's WebSockets are
// streams of one h2c connection (prior knowledge), as a browser puts them on its page's connection.
const { BINARY, connectSession, encodeFrame, openWebSocket } = require('./h2-websocket-client')
const { loop } = require('./ws-client')

async function open (session, path) {
  const { status, ws } = await openWebSocket(session, path)
  if (status !== 200) throw new Error(`extended CONNECT ${path}: ${status}`)
  return ws
}

/** Runs `body` with an HTTP/2 session to the server, closed whatever happens. */
async function withSession (port, body) {
  const session = await connectSession(`http://127.0.0.1:${port}`)
  try {
    return await body(session)
  } finally {
    session.destroy()
  }
}

/** Echo messages per second over `count` WebSockets on one HTTP/2 connection, one message in flight each. */
function echo (port, path, size, count, seconds) {
  return withSession(port, async (session) => {
    const sockets = await Promise.all(Array.from({ length: count }, () => open(session, path)))
    // One masked frame, sent again and again: the client's masking is not what is measured.
    const frame = encodeFrame(BINARY, Buffer.alloc(size, 'x'))
    const end = performance.now() + seconds * 1000
    let received = 0
    const start = performance.now()
    await Promise.all(sockets.map(async (ws) => {
      while (performance.now() < end) {
        ws.write(frame)
        if (await ws.next() === undefined) throw new Error('a WebSocket closed during the echo')
        received++
      }
    }))
    return received / ((performance.now() - start) / 1000)
  })
}

/**
 * WebSocket handshakes per second on one HTTP/2 connection, `concurrency` at a time: each opens a
 * stream with an extended CONNECT, waits for the 200 and ends its side of the stream, as the
 * HTTP/1.1 figure drops its connection after the 101. (Resetting the streams instead trips nghttp2's
 * guard against rapid resets after about a thousand: GOAWAY with INTERNAL_ERROR.)
 */
function handshakes (port, path, concurrency, seconds) {
  return withSession(port, (session) => loop(concurrency, seconds, async () => {
    const ws = await open(session, path)
    ws.stream.end()
    await ws.closed
  }))
}

module.exports = { echo, handshakes }
