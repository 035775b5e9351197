'use strict'

// A WebSocket client over one HTTP/2 stream (RFC 8441), written by hand on node:http2: the
// extended CONNECT, then RFC 6455 frames both ways (client frames masked). Plain CommonJS for the
// benchmarks; the tests use it too (its types: h2-websocket-client.d.ts).
const { randomBytes } = require('node:crypto')
const { connect } = require('node:http2')

const TEXT = 0x1
const BINARY = 0x2
const CLOSE = 0x8
const PING = 0x9
const PONG = 0xa

/** One frame, masked as a client sends it unless `mask` is false. */
function encodeFrame (opcode, payload = Buffer.alloc(0), { mask = true, fin = true } = {}) {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload
  const length = data.length
  const size = length < 126 ? 0 : length < 65536 ? 2 : 8
  const head = Buffer.alloc(2 + size + (mask ? 4 : 0))
  head[0] = (fin ? 0x80 : 0) | opcode
  head[1] = (mask ? 0x80 : 0) | (size === 0 ? length : size === 2 ? 126 : 127)
  if (size === 2) head.writeUInt16BE(length, 2)
  else if (size === 8) head.writeBigUInt64BE(BigInt(length), 2)
  if (!mask) return Buffer.concat([head, data])
  const key = randomBytes(4)
  key.copy(head, 2 + size)
  const masked = Buffer.alloc(length)
  for (let i = 0; i < length; i++) masked[i] = data[i] ^ key[i & 3]
  return Buffer.concat([head, masked])
}

/** A close frame's payload: the code and the reason. */
function closePayload (code, reason = '') {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason))
  payload.writeUInt16BE(code, 0)
  payload.write(reason, 2)
  return payload
}

/** Splits what a server sends into frames (unmasked, as a server sends them). */
class FrameParser {
  constructor () {
    this.buffered = Buffer.alloc(0)
  }

  push (chunk) {
    this.buffered = Buffer.concat([this.buffered, chunk])
    const frames = []
    for (;;) {
      const bytes = this.buffered
      if (bytes.length < 2) break
      let length = bytes[1] & 0x7f
      let offset = 2
      if (length === 126) {
        if (bytes.length < 4) break
        length = bytes.readUInt16BE(2)
        offset = 4
      } else if (length === 127) {
        if (bytes.length < 10) break
        length = Number(bytes.readBigUInt64BE(2))
        offset = 10
      }
      if (bytes[1] & 0x80) offset += 4
      if (bytes.length < offset + length) break
      frames.push({ fin: (bytes[0] & 0x80) !== 0, rsv1: (bytes[0] & 0x40) !== 0, opcode: bytes[0] & 0x0f, payload: bytes.subarray(offset, offset + length) })
      this.buffered = bytes.subarray(offset + length)
    }
    return frames
  }
}

/** One WebSocket on an HTTP/2 stream. */
class H2WebSocket {
  constructor (stream, headers) {
    this.stream = stream
    this.headers = headers
    /** Data and control frames received, but close frames. */
    this.frames = []
    this.closeSent = false
    this.serverClose = undefined
    this.waiters = []
    this.parser = new FrameParser()
    stream.on('data', (chunk) => {
      for (const frame of this.parser.push(chunk)) this.receive(frame)
      this.wake()
    })
    stream.on('error', () => {})
    /** Resolves with `{ code, reason, rstCode }` once the stream has closed. */
    this.closed = new Promise((resolve) => {
      stream.once('close', () => {
        this.wake()
        resolve({ code: this.serverClose?.code, reason: this.serverClose?.reason ?? '', rstCode: stream.rstCode })
      })
    })
  }

  receive (frame) {
    if (frame.opcode === PING) this.write(encodeFrame(PONG, frame.payload))
    if (frame.opcode === CLOSE) {
      this.serverClose = { code: frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005, reason: frame.payload.subarray(2).toString() }
      // The closing handshake: answer with the same code, then end this side of the stream.
      if (!this.closeSent) this.close(this.serverClose.code)
      this.stream.end()
      return
    }
    this.frames.push(frame)
  }

  wake () {
    for (const wake of this.waiters.splice(0)) wake()
  }

  write (bytes) {
    if (!this.stream.destroyed && this.stream.writable) this.stream.write(bytes)
  }

  /** Sends a text (string) or binary (Buffer) message. */
  send (data) {
    this.write(encodeFrame(typeof data === 'string' ? TEXT : BINARY, data))
  }

  /** Starts the closing handshake; `closed` resolves once the stream has closed. */
  close (code = 1000, reason = '') {
    this.closeSent = true
    this.write(encodeFrame(CLOSE, closePayload(code, reason)))
  }

  /** The next data frame (text or binary) the server sent, once it is here; `undefined` when the stream closed first. */
  async next () {
    for (;;) {
      const index = this.frames.findIndex((frame) => frame.opcode === TEXT || frame.opcode === BINARY)
      if (index !== -1) return this.frames.splice(index, 1)[0]
      if (this.stream.closed || this.stream.destroyed) return undefined
      await new Promise((resolve) => this.waiters.push(resolve))
    }
  }

  /** The next text message. */
  async text () {
    return (await this.next())?.payload.toString()
  }
}

/** Sends the extended CONNECT for `path` on `session` and answers what came back (RFC 8441 §4-5). */
async function openWebSocket (session, path, options = {}) {
  const socket = session.socket
  const headers = {
    ':method': 'CONNECT',
    ':protocol': options.protocol ?? 'websocket',
    ':scheme': session.encrypted === true ? 'https' : 'http',
    ':path': path,
    ':authority': `${socket.remoteAddress}:${socket.remotePort}`,
    'sec-websocket-version': '13',
    ...(options.protocols === undefined ? {} : { 'sec-websocket-protocol': options.protocols.join(', ') }),
    ...options.headers
  }
  const stream = session.request(headers, { endStream: false })
  return await new Promise((resolve, reject) => {
    stream.once('error', reject)
    stream.once('response', (response) => {
      const status = response[':status']
      if (status === 200) {
        stream.removeListener('error', reject)
        resolve({ status, headers: response, ws: new H2WebSocket(stream, response), body: '' })
        return
      }
      let body = ''
      stream.setEncoding('utf8')
      stream.on('data', (chunk) => { body += chunk })
      stream.once('end', () => { resolve({ status, headers: response, ws: undefined, body }) })
      stream.end()
    })
  })
}

/** An HTTP/2 session to `url`, once the server's SETTINGS are in (they say whether it takes extended CONNECT). */
async function connectSession (url, options = {}) {
  const session = connect(url, options)
  session.on('error', () => {})
  await new Promise((resolve, reject) => {
    session.once('remoteSettings', () => { resolve() })
    session.once('close', () => { reject(new Error('the session closed before its SETTINGS')) })
  })
  return session
}

module.exports = { TEXT, BINARY, CLOSE, PING, PONG, encodeFrame, closePayload, FrameParser, H2WebSocket, openWebSocket, connectSession }
