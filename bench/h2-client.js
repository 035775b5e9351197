'use strict'

// A minimal HTTP/2 client on raw frames. h2load cannot start a connection with `Upgrade: h2c`,
// and Node's http2 client cannot adopt a connection whose stream 1 is already taken by the
// upgrade request, so this one does both: prior knowledge or upgrade, then GETs on its own
// streams. It never decodes the server's header blocks: a stream is done at its END_STREAM flag.
const { connect } = require('./ws-client')

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')
const DATA = 0
const HEADERS = 1
const RST_STREAM = 3
const SETTINGS = 4
const PING = 6
const GOAWAY = 7
const END_STREAM = 0x1
const ACK = 0x1
const END_HEADERS = 0x4
const MAX_WINDOW = 2 ** 31 - 1

function frame (type, flags, stream, payload = Buffer.alloc(0)) {
  const head = Buffer.alloc(9)
  head.writeUIntBE(payload.length, 0, 3)
  head[3] = type
  head[4] = flags
  head.writeUInt32BE(stream, 5)
  return Buffer.concat([head, payload])
}

// ENABLE_PUSH 0, INITIAL_WINDOW_SIZE 2^31-1: the client never has to send WINDOW_UPDATE for streams.
const SETTINGS_PAYLOAD = Buffer.from([0, 2, 0, 0, 0, 0, 0, 4, 0x7f, 0xff, 0xff, 0xff])
const WINDOW_UPDATE = Buffer.alloc(4)
WINDOW_UPDATE.writeUInt32BE(MAX_WINDOW - 65535)
const CLIENT_START = Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, SETTINGS_PAYLOAD), frame(8, 0, 0, WINDOW_UPDATE)])

/** HPACK: `name` by its static-table index, `value` as a literal that is never indexed (nothing to track). */
function literal (index, value) {
  const bytes = Buffer.from(value, 'latin1')
  return Buffer.concat([Buffer.from([index, bytes.length]), bytes])
}

/** One GET's header block: :method GET, :scheme http (static entries 2 and 6), :path, :authority. */
function getBlock (authority, path) {
  return Buffer.concat([Buffer.from([0x82, 0x86]), literal(4, path), literal(1, authority)])
}

/** An HTTP/2 connection; `open` resolves once it can take requests (after the 101 when upgrading). */
class Connection {
  constructor (port, path, upgrade) {
    this.block = getBlock(`127.0.0.1:${port}`, path)
    this.nextStream = upgrade ? 3 : 1
    this.pending = new Map()
    this.buffer = Buffer.alloc(0)
    this.socket = connect(port)
    this.socket.setNoDelay(true)
    this.open = new Promise((resolve, reject) => {
      this.fail = (error) => {
        reject(error)
        for (const done of this.pending.values()) done(error)
        this.pending.clear()
        this.socket.destroy()
      }
      this.socket.on('error', this.fail)
      // A connection closed under way fails what waits on it (the server may close without an error).
      this.socket.on('close', () => { this.fail(new Error('connection closed')) })
      if (!upgrade) {
        this.socket.write(CLIENT_START)
        this.socket.on('data', (chunk) => { this.read(chunk) })
        resolve()
        return
      }
      // Stream 1 is the upgrade request itself; its response arrives as HTTP/2 after the 101.
      this.pending.set(1, (error) => { if (error === undefined) resolve() })
      let head = Buffer.alloc(0)
      const onHead = (chunk) => {
        head = Buffer.concat([head, chunk])
        const end = head.indexOf('\r\n\r\n')
        if (end === -1) return
        this.socket.removeListener('data', onHead)
        if (!head.toString('latin1', 0, 12).startsWith('HTTP/1.1 101')) {
          this.fail(new Error(`upgrade answered ${head.toString('latin1', 0, head.indexOf('\r\n'))}`))
          return
        }
        this.socket.on('data', (data) => { this.read(data) })
        this.socket.write(CLIENT_START)
        this.read(head.subarray(end + 4))
      }
      this.socket.on('data', onHead)
      this.socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade, HTTP2-Settings\r\n` +
        `Upgrade: h2c\r\nHTTP2-Settings: ${SETTINGS_PAYLOAD.toString('base64url')}\r\n\r\n`)
    })
  }

  /** One GET; resolves when its response has ended. */
  get () {
    const stream = this.nextStream
    this.nextStream += 2
    return new Promise((resolve, reject) => {
      this.pending.set(stream, (error) => { error === undefined ? resolve() : reject(error) })
      this.socket.write(frame(HEADERS, END_HEADERS | END_STREAM, stream, this.block))
    })
  }

  read (chunk) {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk])
    while (this.buffer.length >= 9) {
      const length = this.buffer.readUIntBE(0, 3)
      if (this.buffer.length < 9 + length) break
      const type = this.buffer[3]
      const flags = this.buffer[4]
      const stream = this.buffer.readUInt32BE(5) & MAX_WINDOW
      const payload = this.buffer.subarray(9, 9 + length)
      this.buffer = this.buffer.subarray(9 + length)
      if (type === SETTINGS && (flags & ACK) === 0) {
        this.socket.write(frame(SETTINGS, ACK, 0))
      } else if (type === PING && (flags & ACK) === 0) {
        this.socket.write(frame(PING, ACK, 0, payload))
      } else if ((type === DATA || type === HEADERS) && (flags & END_STREAM) !== 0) {
        this.settle(stream)
      } else if (type === RST_STREAM) {
        this.settle(stream, new Error(`stream ${stream} reset`))
      } else if (type === GOAWAY) {
        this.fail(new Error('GOAWAY'))
      }
    }
  }

  settle (stream, error) {
    const done = this.pending.get(stream)
    this.pending.delete(stream)
    done?.(error)
  }

  close () {
    this.socket.destroy()
  }
}

module.exports = { Connection }
