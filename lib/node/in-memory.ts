import type { EventEmitter } from 'node:events'
import { Duplex } from 'node:stream'

/**
 * One end of a connection held in memory: what it writes, the other end reads. It has what Node's
 * HTTP server, ws and the plugin use of a `net.Socket` (addresses, byte counts, timeouts, `destroySoon`), and
 * closes like TCP: ending or destroying one end ends what the other reads.
 */
export class MemorySocket extends Duplex {
  peer: MemorySocket | undefined
  readonly remoteAddress = '127.0.0.1'
  readonly remoteFamily = 'IPv4'
  readonly remotePort = 0
  readonly localAddress = '127.0.0.1'
  readonly localPort = 0
  bytesRead = 0
  bytesWritten = 0
  private timer: NodeJS.Timeout | undefined
  private ended = false

  constructor () {
    // As a net.Socket of Node's servers: reading the other end's close ends writing too.
    super({ allowHalfOpen: false })
  }

  override _read (): void {}

  // What one end writes reaches the other on a later turn of the event loop, as from a network:
  // never within the write, where a reply could come before the writer listens for it.
  override _write (chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytesWritten += chunk.length
    this.timer?.refresh()
    setImmediate(() => {
      (this.peer as MemorySocket).receive(chunk)
      callback()
    })
  }

  override _final (callback: (error?: Error | null) => void): void {
    setImmediate(() => {
      (this.peer as MemorySocket).receive(null)
      callback()
    })
  }

  override _destroy (error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.timer)
    // The other end reads what was already sent, then the end, as after a TCP close.
    const peer = this.peer as MemorySocket
    setImmediate(() => { peer.receive(null) })
    callback(error)
  }

  /** As `net.Socket#setTimeout`: `'timeout'` after `ms` without reads or writes (0: never). */
  setTimeout (ms: number): this {
    clearTimeout(this.timer)
    this.timer = undefined
    // Ref'd, where a socket's is not: no handle keeps the process alive while the connection waits.
    if (ms > 0 && !this.destroyed) this.timer = setTimeout(() => this.emit('timeout'), ms)
    return this
  }

  /** As `net.Socket#destroySoon`: closes once what was written is sent. */
  destroySoon (): void {
    this.end(() => this.destroy())
  }

  private receive (chunk: Buffer | null): void {
    if (this.ended || this.destroyed) return
    if (chunk === null) this.ended = true
    else {
      this.bytesRead += chunk.length
      this.timer?.refresh()
    }
    this.push(chunk)
    // As a net.Socket at the end of its input: 'end' comes once all was read, even while paused.
    if (chunk === null) this.read(0)
  }
}

/**
 * Opens a connection to `server` held in memory: the server gets one end as a new connection,
 * exactly as it gets an accepted TCP socket, and the other end, returned, is the client's.
 */
export function connectInMemory (server: EventEmitter): MemorySocket {
  const client = new MemorySocket()
  const end = new MemorySocket()
  client.peer = end
  end.peer = client
  server.emit('connection', end)
  return client
}
