import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { hasConnectionOption, parseUpgrade } from '../kit/lists'
import type { RouteIndex } from '../route/route-index'

type Listener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void

/**
 * Other plugins' `'upgrade'` listeners, such as @fastify/websocket's. Node calls every listener
 * for every upgrade request, and @fastify/websocket answers 400 to all but WebSocket, so once the
 * server is ready the plugin owns the event: the listeners it found are called only for requests
 * that no fastify-upgrade route could be serving and that are theirs: those the server's own
 * `shouldUpgradeCallback` wants, if the user gave it one, or else WebSocket handshakes.
 */
export class ForeignUpgrades {
  private listeners: Listener[] = []
  private theirs: ((req: IncomingMessage) => boolean) | undefined

  constructor (private readonly routes: RouteIndex) {}

  /** Removes every `'upgrade'` listener of `server`, to call them from the plugin's. */
  takeOver (server: NodeJS.EventEmitter, theirs: ((req: IncomingMessage) => boolean) | undefined): void {
    this.theirs = theirs
    for (const listener of server.listeners('upgrade') as Listener[]) {
      server.removeListener('upgrade', listener)
      this.listeners.push(listener.bind(server))
    }
  }

  /** Whether a request is for the listeners taken over. */
  wants (req: IncomingMessage): boolean {
    if (this.listeners.length === 0 || this.routes.has(req.url as string)) return false
    if (this.theirs !== undefined) return this.theirs(req)
    const { connection, upgrade } = req.headers
    return hasConnectionOption(connection, 'upgrade') && parseUpgrade(upgrade).some((offer) => offer.key === 'websocket')
  }

  /** Hands a request to the listeners taken over when it is theirs; answers whether it did. */
  dispatch (req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (!this.wants(req)) return false
    for (const listener of this.listeners) listener(req, socket, head)
    return true
  }
}
