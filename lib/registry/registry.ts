import type { Duplex } from 'node:stream'

/** What follows a tracked connection to its close: its log lines and messages (observe.ts). */
export interface Observer {
  closed: (socket: Duplex) => void
}

/** One per tracked connection, updated in place as the connection is switched and its adapter says how to close it. */
interface Entry {
  close: Close
  /** The name of the adapter the connection was upgraded to, `undefined` while it is not. */
  protocol: string | undefined
  /** An HTTP/2 stream that carries a protocol (RFC 8441), inside a connection closed after it. */
  stream: boolean
  observer: Observer | undefined
}

/** Ends a tracked connection gracefully, given it: a function of the module that tracks it serves them all. */
export type Close = (connection: Duplex) => void

function doNothing (): void {}

/** Closes a connection that has nothing to say as it goes (no protocol spoken yet, or a handed-back HTTP/1.1 one). */
export function destroyConnection (connection: Duplex): void {
  connection.destroy()
}

/**
 * Every connection the plugin holds outside Node's HTTP server: upgrade requests in flight,
 * upgraded connections (or HTTP/2 streams that carry a protocol), and connections handed back to HTTP that have not served again yet.
 * Node's `server.close()` waits for them and its `closeAllConnections()` skips them, so
 * `fastify.close()` would hang without this.
 */
export class ConnectionRegistry {
  /** Upgraded connections open now. */
  upgraded = 0
  /** Upgraded connections open now, by adapter name. */
  private readonly counts: Map<string, number>
  private readonly entries = new Map<Duplex, Entry>()
  private closing = false
  private onEmpty: (() => void) | undefined
  /** Streams open now. */
  private streams = 0
  private onStreamsClosed: (() => void) | undefined
  /**
   * One `'close'` listener for every tracked socket or stream (Node calls it with the emitter as
   * `this`): nothing per connection for it to keep, and `close` fires once, so no `once` wrapper either.
   */
  private readonly onSocketClose: (this: Duplex) => void

  /** `protocols`: the adapter names counted from 0. */
  constructor (protocols: Iterable<string> = []) {
    this.counts = new Map([...protocols].map((name) => [name, 0]))
    const registry = this
    this.onSocketClose = function onSocketClose () { registry.untrack(this) }
  }

  /**
   * Tracks `socket` until it closes; `close` ends it gracefully on `fastify.close()`. `protocol`:
   * the name of the adapter it was upgraded to; `stream`: an HTTP/2 stream, closed before
   * connections; `observer`: hears of its close, through the one listener the registry has on it.
   */
  track (socket: Duplex, close: Close = doNothing, protocol?: string, stream = false, observer?: Observer): void {
    if (socket.destroyed) return
    const entry = this.entries.get(socket)
    if (entry === undefined) {
      socket.on('close', this.onSocketClose)
      if (stream) this.streams++
      this.entries.set(socket, { close, protocol, stream, observer })
    } else {
      this.count(entry.protocol, -1)
      entry.close = close
      entry.protocol = protocol
      if (observer !== undefined) entry.observer = observer
    }
    this.count(protocol, 1)
    if (this.closing) close(socket)
  }

  /** `observer` hears of the close of `socket`, tracked, from now on instead of any before it (`undefined`: nobody). */
  observe (socket: Duplex, observer: Observer | undefined): void {
    const entry = this.entries.get(socket)
    if (entry !== undefined) entry.observer = observer
  }

  untrack (socket: Duplex): void {
    const entry = this.entries.get(socket)
    if (entry === undefined) return
    this.entries.delete(socket)
    socket.removeListener('close', this.onSocketClose)
    this.count(entry.protocol, -1)
    entry.observer?.closed(socket)
    if (entry.stream && --this.streams === 0) this.onStreamsClosed?.()
    if (this.entries.size === 0 && this.onEmpty !== undefined) this.onEmpty()
  }

  /** Upgraded connections open now, by adapter name. */
  connections (): Record<string, number> {
    return Object.fromEntries(this.counts)
  }

  private count (protocol: string | undefined, change: number): void {
    if (protocol === undefined) return
    this.upgraded += change
    this.counts.set(protocol, (this.counts.get(protocol) ?? 0) + change)
  }

  /** Closes every connection gracefully, then destroys what is still open after `timeout` ms. */
  async closeAll (timeout: number): Promise<void> {
    this.closing = true
    if (this.entries.size === 0) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        for (const socket of this.entries.keys()) socket.destroy()
      }, timeout)
      this.onEmpty = () => {
        clearTimeout(timer)
        resolve()
      }
      // Streams first: the GOAWAY of their HTTP/2 session follows their close (a WebSocket's 1001 and its answer).
      this.closeEach(true)
      if (this.streams === 0) this.closeEach(false)
      else this.onStreamsClosed = () => { this.closeEach(false) }
    })
  }

  private closeEach (streams: boolean): void {
    for (const [socket, entry] of this.entries) {
      if (entry.stream !== streams) continue
      try {
        entry.close(socket)
      } catch {
        socket.destroy()
      }
    }
  }
}
