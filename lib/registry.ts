import type { Socket } from 'node:net'

interface Entry {
  close: () => void
  upgraded: boolean
  onSocketClose: () => void
}

function doNothing (): void {}

/**
 * Every connection the plugin holds outside Node's HTTP server: upgrade requests in flight,
 * upgraded connections, and connections handed back to HTTP that have not served again yet.
 * Node's `server.close()` waits for them and its `closeAllConnections()` skips them, so
 * `fastify.close()` would hang without this.
 */
export class ConnectionRegistry {
  /** Upgraded connections open now. */
  upgraded = 0
  private readonly entries = new Map<Socket, Entry>()
  private closing = false
  private onEmpty: (() => void) | undefined

  /** Tracks `socket` until it closes; `close` ends it gracefully on `fastify.close()`. */
  track (socket: Socket, close: () => void = doNothing, upgraded = false): void {
    if (socket.destroyed) return
    const previous = this.entries.get(socket)
    let onSocketClose
    if (previous === undefined) {
      onSocketClose = () => { this.untrack(socket) }
      socket.once('close', onSocketClose)
    } else {
      onSocketClose = previous.onSocketClose
      if (previous.upgraded) this.upgraded--
    }
    this.entries.set(socket, { close, upgraded, onSocketClose })
    if (upgraded) this.upgraded++
    if (this.closing) close()
  }

  untrack (socket: Socket): void {
    const entry = this.entries.get(socket)
    if (entry === undefined) return
    this.entries.delete(socket)
    socket.removeListener('close', entry.onSocketClose)
    if (entry.upgraded) this.upgraded--
    if (this.entries.size === 0 && this.onEmpty !== undefined) this.onEmpty()
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
      for (const [socket, entry] of this.entries) {
        try {
          entry.close()
        } catch {
          socket.destroy()
        }
      }
    })
  }
}
