import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { RouteOptions } from 'fastify'
import FindMyWay from 'find-my-way'
import { hasConnectionOption, parseUpgrade } from './negotiation'

type UpgradeListener = (req: IncomingMessage, socket: Socket, head: Buffer) => void

// find-my-way needs a handler; only whether a route matches is ever asked.
/* c8 ignore next */
function doNothing (): void {}

/**
 * Other plugins' `'upgrade'` listeners, such as @fastify/websocket's. Node calls every listener
 * for every upgrade request, and @fastify/websocket answers 400 to all but WebSocket, so once the
 * server is ready the plugin owns the event: the listeners it found are called only for WebSocket
 * handshakes that no fastify-upgrade route could be serving. Everything else stays ours.
 */
export class ForeignUpgrades {
  private listeners: UpgradeListener[] = []
  // The paths of our upgrade routes, matched leniently (any method and case, trailing and
  // duplicate slashes, no constraints): a request that might be for one of them is never given away.
  private readonly routes = FindMyWay({ caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, allowUnsafeRegex: true })

  /** `onRoute`: remembers the path of a route of ours, whatever its methods. */
  addRoute (route: RouteOptions): void {
    if (!this.routes.hasRoute('GET', route.url)) this.routes.on('GET', route.url, doNothing)
  }

  /** Removes every `'upgrade'` listener of `server` but `own`, to call them from `own`. */
  takeOver (server: NodeJS.EventEmitter, own: UpgradeListener): void {
    for (const listener of server.listeners('upgrade') as UpgradeListener[]) {
      if (listener === own) continue
      server.removeListener('upgrade', listener)
      this.listeners.push(listener.bind(server))
    }
  }

  /** Whether a request is for the listeners taken over: a WebSocket handshake for none of our routes. */
  wants (req: IncomingMessage): boolean {
    if (this.listeners.length === 0) return false
    const { connection, upgrade } = req.headers
    if (!hasConnectionOption(connection, 'upgrade') || !parseUpgrade(upgrade).some((offer) => offer.key === 'websocket')) return false
    return this.routes.find('GET', req.url as string) === null
  }

  /** Hands a request to the listeners taken over when it is theirs; answers whether it did. */
  dispatch (req: IncomingMessage, socket: Socket, head: Buffer): boolean {
    if (!this.wants(req)) return false
    for (const listener of this.listeners) listener(req, socket, head)
    return true
  }
}
