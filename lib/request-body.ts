import { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { FST_ERR_UPGRADE_BAD_REQUEST, FST_ERR_UPGRADE_BODY_TOO_LARGE } from './errors'

// A chunk-size line (with extensions) or a trailer line longer than this is refused, as
// llhttp refuses overlong chunk extensions on Node's own path.
const MAX_LINE = 4096
const MAX_TRAILER_BYTES = 16384

const SIZE = 0
const DATA = 1
const DATA_END = 2
const TRAILERS = 3
const DONE = 4

const EMPTY = Buffer.alloc(0)

function isHexDigit (code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102)
}

/**
 * The request Fastify sees on the upgrade path. Node hands over an upgrade request already
 * ended, with its body still raw on the socket; this one reads that body (Content-Length or
 * chunked) from the bytes after the head and the socket, and stops exactly at its end, so what
 * follows (a pipelined request or the new protocol) stays in `leftover`, untouched.
 */
export class UpgradeRequest extends IncomingMessage {
  /** The bytes after the body, known once `complete`. */
  leftover: Buffer = EMPTY
  /** Body bytes received so far. */
  received = 0
  /** The body could not be read (framing error, over the limit, connection lost). */
  failure: Error | undefined
  private limit = Infinity
  private readonly chunked: boolean
  private state: number
  private remaining = 0
  private line = ''
  private trailerBytes = 0
  private reading = false
  private readonly onSocketData = (chunk: Buffer) => { this.feed(chunk) }
  private waiter: ((error?: Error) => void) | undefined
  /** Body bytes kept for a continuation adapter, which replays the request after the switch. */
  private readonly kept: Buffer[] = []

  /** `keep`: how many body bytes to keep for `rawBody()` (0: none); beyond it the upgrade fails anyway. */
  constructor (source: IncomingMessage, socket: Socket, head: Buffer, private readonly keep = 0) {
    super(socket)
    this.method = source.method
    this.url = source.url
    this.httpVersionMajor = source.httpVersionMajor
    this.httpVersionMinor = source.httpVersionMinor
    this.httpVersion = source.httpVersion
    this.rawHeaders = source.rawHeaders
    this.headers = source.headers

    // Node's parser already refused conflicting or malformed framing headers.
    this.chunked = source.headers['transfer-encoding'] !== undefined
    if (this.chunked) {
      this.state = SIZE
    } else {
      this.remaining = Number(source.headers['content-length'] ?? 0)
      this.state = this.remaining === 0 ? DONE : DATA
    }
    if (this.state === DONE) {
      this.finish(head)
      return
    }
    this.feed(head)
    if (this.state !== DONE && this.failure === undefined) {
      this.reading = true
      socket.on('data', this.onSocketData)
    }
  }

  override _read (): void {
    // A reader that comes after the failure learns of it now.
    if (this.failure !== undefined) this.destroy(this.failure)
    else if (this.reading) this.socket.resume()
  }

  override _destroy (error: Error | null, callback: (error?: Error | null) => void): void {
    // Unlike Node's, this request does not take its socket down: the 4xx for it still has to be written.
    callback(this.listenerCount('error') > 0 ? error : null)
  }

  /** Calls back once the whole body is in (discarding what nobody read), or with why it cannot be. */
  drain (limit: number, callback: (error?: Error) => void): void {
    this.limit = limit
    if (this.failure === undefined && this.received > limit) this.fail(new FST_ERR_UPGRADE_BODY_TOO_LARGE(limit))
    if (this.failure !== undefined || this.complete) {
      callback(this.failure)
      return
    }
    this.waiter = callback
    this.resume()
  }

  /** The body as received (chunked framing removed), when the constructor was asked to keep it. */
  rawBody (): Buffer {
    return Buffer.concat(this.kept)
  }

  /** The connection went away before the body was in. */
  abort (): void {
    if (this.complete || this.failure !== undefined) return
    const error = Object.assign(new Error('aborted'), { code: 'ECONNRESET' })
    this.fail(error)
  }

  private feed (chunk: Buffer): void {
    let i = 0
    while (i < chunk.length && this.state !== DONE) {
      if (this.state === DATA) {
        const end = i + Math.min(this.remaining, chunk.length - i)
        this.remaining -= end - i
        if (!this.body(chunk.subarray(i, end))) return
        i = end
        if (this.remaining === 0) this.state = this.chunked ? DATA_END : DONE
        continue
      }
      const lf = chunk.indexOf(10, i)
      const end = lf === -1 ? chunk.length : lf
      if (this.line.length + end - i > MAX_LINE) return this.fail(new FST_ERR_UPGRADE_BAD_REQUEST('Chunked body line too long'))
      this.line += chunk.toString('latin1', i, end)
      if (lf === -1) return
      i = lf + 1
      const line = this.line
      this.line = ''
      if (!line.endsWith('\r')) return this.fail(new FST_ERR_UPGRADE_BAD_REQUEST('Chunked body line not ended by CRLF'))
      if (!this.onLine(line.slice(0, -1))) return
    }
    if (this.state === DONE) this.finish(chunk.subarray(i))
  }

  /** One CRLF-terminated line of the chunked framing; false when it is malformed. */
  private onLine (line: string): boolean {
    if (this.state === SIZE) {
      let digits = 0
      while (digits < line.length && isHexDigit(line.charCodeAt(digits))) digits++
      const rest = line.slice(digits).trimStart()
      if (digits === 0 || digits > 12 || (rest !== '' && rest[0] !== ';')) {
        this.fail(new FST_ERR_UPGRADE_BAD_REQUEST('Invalid chunk size'))
        return false
      }
      this.remaining = parseInt(line.slice(0, digits), 16)
      this.state = this.remaining === 0 ? TRAILERS : DATA
    } else if (this.state === DATA_END) {
      if (line !== '') {
        this.fail(new FST_ERR_UPGRADE_BAD_REQUEST('Chunk data longer than its size'))
        return false
      }
      this.state = SIZE
    } else if (line === '') {
      this.state = DONE
    } else {
      this.trailerBytes += line.length
      if (this.trailerBytes > MAX_TRAILER_BYTES) {
        this.fail(new FST_ERR_UPGRADE_BAD_REQUEST('Trailers too large'))
        return false
      }
    }
    return true
  }

  /** Passes body bytes on; false when that broke the limit. */
  private body (data: Buffer): boolean {
    this.received += data.length
    if (this.received > this.limit) {
      this.fail(new FST_ERR_UPGRADE_BODY_TOO_LARGE(this.limit))
      return false
    }
    // Beyond `keep` the upgrade is refused with 413 anyway.
    if (this.received <= this.keep) this.kept.push(data)
    if (!this.push(data) && this.reading) this.socket.pause()
    return true
  }

  private stopReading (): void {
    if (!this.reading) return
    this.reading = false
    this.socket.removeListener('data', this.onSocketData)
    this.socket.pause()
  }

  private finish (leftover: Buffer): void {
    this.stopReading()
    this.leftover = leftover
    this.complete = true
    this.push(null)
    this.settle()
  }

  private fail (error: Error): void {
    this.stopReading()
    this.failure = error
    this.settle()
    // Fastify's body parser listens while it reads, and answers the error's status code.
    if (this.listenerCount('error') > 0) this.destroy(error)
  }

  private settle (): void {
    const waiter = this.waiter
    this.waiter = undefined
    if (waiter !== undefined) waiter(this.failure)
  }
}
