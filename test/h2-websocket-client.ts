// A WebSocket client over one HTTP/2 stream (RFC 8441), written by hand on node:http2: the
// extended CONNECT, then RFC 6455 frames both ways (client frames masked). No test framework in
// here, so that benchmarks can use it too.
import { randomBytes } from 'node:crypto'
import { connect, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders, type SecureClientSessionOptions } from 'node:http2'

export const TEXT = 0x1
export const BINARY = 0x2
export const CLOSE = 0x8
export const PING = 0x9
export const PONG = 0xa

export interface Frame {
  fin: boolean
  rsv1: boolean
  opcode: number
  payload: Buffer
}

/** One frame, masked as a client sends it unless `mask` is false. */
export function encodeFrame (opcode: number, payload: Buffer | string = Buffer.alloc(0), { mask = true, fin = true } = {}): Buffer {
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
export function closePayload (code: number, reason = ''): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason))
  payload.writeUInt16BE(code, 0)
  payload.write(reason, 2)
  return payload
}

/** Splits what a server sends into frames (unmasked, as a server sends them). */
export class FrameParser {
  private buffered = Buffer.alloc(0)

  push (chunk: Buffer): Frame[] {
    this.buffered = Buffer.concat([this.buffered, chunk])
    const frames: Frame[] = []
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

export interface Closed {
  /** The server's close code, `undefined` when none came (the stream ended or was reset without one). */
  code: number | undefined
  reason: string
  /** The stream's RST_STREAM code (0 when it closed normally). */
  rstCode: number | undefined
}

/** One WebSocket on an HTTP/2 stream. */
export class H2WebSocket {
  readonly frames: Frame[] = []
  readonly closed: Promise<Closed>
  private closeSent = false
  private serverClose: { code: number, reason: string } | undefined
  private readonly waiters: Array<() => void> = []
  private readonly parser = new FrameParser()

  constructor (readonly stream: ClientHttp2Stream, readonly headers: IncomingHttpHeaders) {
    stream.on('data', (chunk: Buffer) => {
      for (const frame of this.parser.push(chunk)) this.receive(frame)
      this.wake()
    })
    stream.on('error', () => {})
    this.closed = new Promise((resolve) => {
      stream.once('close', () => {
        this.wake()
        resolve({ code: this.serverClose?.code, reason: this.serverClose?.reason ?? '', rstCode: stream.rstCode })
      })
    })
  }

  private receive (frame: Frame): void {
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

  private wake (): void {
    for (const wake of this.waiters.splice(0)) wake()
  }

  write (bytes: Buffer): void {
    if (!this.stream.destroyed && this.stream.writable) this.stream.write(bytes)
  }

  /** Sends a text (string) or binary (Buffer) message. */
  send (data: string | Buffer): void {
    this.write(encodeFrame(typeof data === 'string' ? TEXT : BINARY, data))
  }

  /** Starts the closing handshake; `closed` resolves once the stream has closed. */
  close (code = 1000, reason = ''): void {
    this.closeSent = true
    this.write(encodeFrame(CLOSE, closePayload(code, reason)))
  }

  /** The next data frame (text or binary) the server sent, once it is here; `undefined` when the stream closed first. */
  async next (): Promise<Frame | undefined> {
    for (;;) {
      const index = this.frames.findIndex((frame) => frame.opcode === TEXT || frame.opcode === BINARY)
      if (index !== -1) return this.frames.splice(index, 1)[0]
      if (this.stream.closed || this.stream.destroyed) return undefined
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }

  /** The next text message. */
  async text (): Promise<string | undefined> {
    return (await this.next())?.payload.toString()
  }
}

export interface Answer {
  status: number
  headers: IncomingHttpHeaders
  /** On a 200: the WebSocket. */
  ws: H2WebSocket | undefined
  /** Otherwise: the body. */
  body: string
}

export interface OpenOptions {
  /** Offered in Sec-WebSocket-Protocol. */
  protocols?: string[]
  /** More header fields; they replace the defaults of the same name. */
  headers?: OutgoingHttpHeaders
  /** The `:protocol` (default `websocket`). */
  protocol?: string
}

/** Sends the extended CONNECT for `path` on `session` and answers what came back (RFC 8441 §4-5). */
export async function openWebSocket (session: ClientHttp2Session, path: string, options: OpenOptions = {}): Promise<Answer> {
  const socket = session.socket
  const headers: OutgoingHttpHeaders = {
    ':method': 'CONNECT',
    ':protocol': options.protocol ?? 'websocket',
    ':scheme': session.encrypted === true ? 'https' : 'http',
    ':path': path,
    ':authority': `${socket.remoteAddress as string}:${socket.remotePort as number}`,
    'sec-websocket-version': '13',
    ...(options.protocols === undefined ? {} : { 'sec-websocket-protocol': options.protocols.join(', ') }),
    ...options.headers
  }
  const stream = session.request(headers, { endStream: false })
  return await new Promise((resolve, reject) => {
    stream.once('error', reject)
    stream.once('response', (response) => {
      const status = response[':status'] as number
      if (status === 200) {
        stream.removeListener('error', reject)
        resolve({ status, headers: response, ws: new H2WebSocket(stream, response), body: '' })
        return
      }
      let body = ''
      stream.setEncoding('utf8')
      stream.on('data', (chunk: string) => { body += chunk })
      stream.once('end', () => { resolve({ status, headers: response, ws: undefined, body }) })
      stream.end()
    })
  })
}

/** An HTTP/2 session to `url`, once the server's SETTINGS are in (they say whether it takes extended CONNECT). */
export async function connectSession (url: string, options: SecureClientSessionOptions = {}): Promise<ClientHttp2Session> {
  const session = connect(url, options)
  session.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    session.once('remoteSettings', () => { resolve() })
    session.once('close', () => { reject(new Error('the session closed before its SETTINGS')) })
  })
  return session
}
