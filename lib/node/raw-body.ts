import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { FST_ERR_UPGRADE_BAD_REQUEST } from '../errors'
import type { BodyReader, UpgradeRequest } from './upgrade-request'

// A chunk-size line (with extensions) or a trailer line longer than this is refused, as
// llhttp refuses overlong chunk extensions on Node's own path.
const MAX_LINE = 4096
const MAX_TRAILER_BYTES = 16384

const SIZE = 0
const DATA = 1
const DATA_END = 2
const TRAILERS = 3
const DONE = 4

function isHexDigit (code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102)
}

/**
 * Reads a body that Node left raw after the head (Content-Length or chunked) from `head`, then
 * from the socket, and stops exactly at its end. Node's parser already refused conflicting or
 * malformed framing headers.
 */
class RawBody implements BodyReader {
  private readonly chunked: boolean
  private state: number
  private remaining = 0
  private line = ''
  private trailerBytes = 0
  private reading = false
  private stopped = false
  private readonly onData = (chunk: Buffer): void => { this.feed(chunk) }

  constructor (private readonly request: UpgradeRequest, headers: IncomingHttpHeaders, private readonly socket: Socket) {
    this.chunked = headers['transfer-encoding'] !== undefined
    this.remaining = this.chunked ? 0 : Number(headers['content-length'])
    this.state = this.chunked ? SIZE : DATA
  }

  start (head: Buffer): void {
    this.request.readFrom(this)
    this.feed(head)
    if (this.stopped) return
    this.reading = true
    this.socket.on('data', this.onData)
  }

  resume (): void {
    if (this.reading) this.socket.resume()
  }

  pause (): void {
    if (this.reading) this.socket.pause()
  }

  stop (): void {
    this.stopped = true
    if (!this.reading) return
    this.reading = false
    this.socket.removeListener('data', this.onData)
    this.socket.pause()
  }

  private feed (chunk: Buffer): void {
    let i = 0
    while (i < chunk.length && this.state !== DONE) {
      if (this.state === DATA) {
        const end = i + Math.min(this.remaining, chunk.length - i)
        this.remaining -= end - i
        if (!this.request.receive(chunk.subarray(i, end))) return
        i = end
        if (this.remaining === 0) this.state = this.chunked ? DATA_END : DONE
        continue
      }
      const lf = chunk.indexOf(10, i)
      const end = lf === -1 ? chunk.length : lf
      if (this.line.length + end - i > MAX_LINE) return this.request.fail(new FST_ERR_UPGRADE_BAD_REQUEST('Chunked body line too long'))
      this.line += chunk.toString('latin1', i, end)
      if (lf === -1) return
      i = lf + 1
      const line = this.line
      this.line = ''
      if (!line.endsWith('\r')) return this.request.fail(new FST_ERR_UPGRADE_BAD_REQUEST('Chunked body line not ended by CRLF'))
      const problem = this.onLine(line.slice(0, -1))
      if (problem !== undefined) return this.request.fail(new FST_ERR_UPGRADE_BAD_REQUEST(problem))
    }
    if (this.state === DONE) this.request.end(chunk.subarray(i))
  }

  /** One CRLF-terminated line of the chunked framing: what is wrong with it, if anything. */
  private onLine (line: string): string | undefined {
    if (this.state === SIZE) {
      let digits = 0
      while (digits < line.length && isHexDigit(line.charCodeAt(digits))) digits++
      // As strict as llhttp on Node's own path: an extension follows the size at once.
      if (digits === 0 || digits > 12 || (digits < line.length && line[digits] !== ';')) return 'Invalid chunk size'
      this.remaining = parseInt(line.slice(0, digits), 16)
      this.state = this.remaining === 0 ? TRAILERS : DATA
    } else if (this.state === DATA_END) {
      if (line !== '') return 'Chunk data longer than its size'
      this.state = SIZE
    } else if (line === '') {
      this.state = DONE
    } else {
      this.trailerBytes += line.length
      if (this.trailerBytes > MAX_TRAILER_BYTES) return 'Trailers too large'
    }
    return undefined
  }
}

/** Node ≤ 24: the body is raw in `head` and on the socket (which is what the 'upgrade' event gave). */
export function rawBody (req: IncomingMessage, _given: Duplex, head: Buffer): (request: UpgradeRequest) => void {
  return (request) => { new RawBody(request, req.headers, req.socket as Socket).start(head) }
}
