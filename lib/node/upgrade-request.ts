import { IncomingMessage, type IncomingHttpHeaders } from 'node:http'
import type { Socket } from 'node:net'
import { FST_ERR_UPGRADE_ABORTED, FST_ERR_UPGRADE_BODY_TOO_LARGE } from '../errors'
import { kExchange } from '../symbols'

const EMPTY = Buffer.alloc(0)

/** Whether a request announces a body. */
export function hasBody (headers: IncomingHttpHeaders): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0')
}

/** Where the body of an upgrade request comes from: the raw bytes after its head, or Node's own parser. */
export interface BodyReader {
  /** The request is being read: go on reading. */
  resume (): void
  /** The request's buffer is full: stop until it is read. */
  pause (): void
  /** Stops for good: the body is in, or it failed. */
  stop (): void
}

/** What the plugin asks of an upgrade request's body, whichever request Fastify sees. */
export interface RequestBody {
  /** The request Fastify sees: Node's own when it announces no body, else one that delivers it. */
  readonly request: IncomingMessage
  readonly complete: boolean
  /** The bytes after the body, known once `complete`. */
  readonly leftover: Buffer
  /** Calls back once the whole body is in (discarding what nobody read), or with why it cannot be. */
  drain: (limit: number, callback: (error?: Error) => void) => void
  /** The connection went away before the body was in. */
  abort: () => void
  /** The body as received, when it was asked to be kept. */
  rawBody: () => Buffer
}

/**
 * The body of a request that announces none: whole from the start, with nothing to read or keep.
 * Fastify sees Node's own request, which Node has already ended: no second request per handshake.
 */
export class NoBody implements RequestBody {
  readonly complete = true

  constructor (readonly request: IncomingMessage, readonly leftover: Buffer) {}

  drain (_limit: number, callback: (error?: Error) => void): void {
    callback()
  }

  abort (): void {}

  rawBody (): Buffer {
    return EMPTY
  }
}

/**
 * The request Fastify sees on the upgrade path when it has a body, whatever the Node line: its body is delivered by
 * a reader that stops exactly at the end of the body, so what follows (a pipelined request or
 * the new protocol) stays in `leftover`, untouched.
 */
export class UpgradeRequest extends IncomingMessage implements RequestBody {
  /** The exchange it belongs to, declared so that every such request has one shape. */
  [kExchange]: unknown = undefined
  /** The bytes after the body, known once `complete`. */
  leftover: Buffer = EMPTY
  /** Body bytes received so far. */
  received = 0
  /** The body could not be read (framing error, over the limit, connection lost). */
  failure: Error | undefined
  private limit = Infinity
  private reader: BodyReader | undefined
  private waiter: ((error?: Error) => void) | undefined
  /** Body bytes kept for a continuation adapter, which replays the request after the switch. */
  private readonly kept: Buffer[] = []

  /** `keep`: how many body bytes to keep for `rawBody()` (0: none); beyond it the upgrade fails anyway. */
  constructor (source: IncomingMessage, socket: Socket, private readonly keep: number) {
    super(socket)
    this.method = source.method
    this.url = source.url
    this.httpVersionMajor = source.httpVersionMajor
    this.httpVersionMinor = source.httpVersionMinor
    this.httpVersion = source.httpVersion
    this.rawHeaders = source.rawHeaders
    this.headers = source.headers
  }

  get request (): IncomingMessage {
    return this
  }

  /** A reader announces itself before it delivers anything. */
  readFrom (reader: BodyReader): void {
    this.reader = reader
  }

  /** A reader delivers body bytes; false when they broke the limit (the request failed). */
  receive (data: Buffer): boolean {
    this.received += data.length
    if (this.received > this.limit) {
      this.fail(new FST_ERR_UPGRADE_BODY_TOO_LARGE(this.limit))
      return false
    }
    // Beyond `keep` the upgrade is refused with 413 anyway.
    if (this.received <= this.keep) this.kept.push(data)
    if (!this.push(data)) this.reader?.pause()
    return true
  }

  /** A reader reached the end of the body; `leftover` is what followed it. */
  end (leftover: Buffer): void {
    this.reader?.stop()
    this.leftover = leftover
    this.complete = true
    this.push(null)
    this.settle()
  }

  /** A reader (or the connection) failed before the end of the body. */
  fail (error: Error): void {
    if (this.failure !== undefined) return
    this.reader?.stop()
    this.failure = error
    this.settle()
    // Fastify's body parser listens while it reads, and answers the error's status code.
    if (this.listenerCount('error') > 0) this.destroy(error)
  }

  override _read (): void {
    // A reader that comes after the failure learns of it now.
    if (this.failure !== undefined) this.destroy(this.failure)
    else this.reader?.resume()
  }

  override _destroy (error: Error | null, callback: (error?: Error | null) => void): void {
    // Unlike Node's, this request does not take its socket down: the 4xx for it still has to be written.
    callback(this.listenerCount('error') > 0 ? error : null)
  }

  /** Calls back once the whole body is in (discarding what nobody read), or with why it cannot be. */
  drain (limit: number, callback: (error?: Error) => void): void {
    this.limit = limit
    if (this.received > limit) this.fail(new FST_ERR_UPGRADE_BODY_TOO_LARGE(limit))
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

  /** The connection went away before the body was in: the client's error, answered 400 if it can still read. */
  abort (): void {
    if (!this.complete) this.fail(new FST_ERR_UPGRADE_ABORTED())
  }

  private settle (): void {
    const waiter = this.waiter
    this.waiter = undefined
    if (waiter !== undefined) waiter(this.failure)
  }
}
