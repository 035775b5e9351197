import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import WS = require('ws')
import { unguardErrors } from './connection'

/** What ws exports beside its documented classes, and the WebSocket members its server sets. */
interface WsInternals {
  extension: {
    parse: (header: string) => Record<string, Array<Record<string, unknown>>>
    format: (extensions: Record<string, Array<Record<string, unknown>>>) => string
  }
  PerMessageDeflate: (new (options: object) => Extension) & { extensionName: string }
}
interface Extension {
  params: Record<string, unknown>
  accept: (offers: Array<Record<string, unknown>>) => Record<string, unknown>
}
interface ServerWebSocket {
  _protocol: string
  _extensions: Record<string, Extension>
  /** ws's framer: `_firstFragment` is false while a message sent in fragments is unfinished. */
  _sender: { _firstFragment: boolean }
  setSocket: (socket: Duplex, head: Buffer, options: object) => void
}
type ResolvedOptions = WS.ServerOptions & { WebSocket: new (address: null, protocols: undefined, options: object) => WS.WebSocket }

const { extension, PerMessageDeflate } = WS as unknown as WsInternals

/** permessage-deflate (RFC 7692) as agreed with one client: the answer's field, and the extension ws runs. */
export interface Deflate {
  header: string
  extension: Extension
}

type SendCallback = (error?: Error) => void
type SendOptions = { fin?: boolean } | SendCallback

/**
 * What a WebSocket does with a whole message sent while more than `limit` bytes of what was sent
 * before are still waiting (its `bufferedAmount`): `refuse` is called instead of sending it, with
 * `send`'s callback if it was given one.
 */
export interface SendGuard {
  limit: number
  refuse: (socket: WS.WebSocket, bufferedAmount: number, callback: SendCallback | undefined) => void
}

/**
 * ws's WebSocket with `guard` before every send: a subclass, so an open WebSocket holds nothing
 * more than ws's own. The queue is judged before a message joins it, so a message larger than the
 * limit still goes out on a short queue. A fragment (`fin: false`) and the rest of its message
 * always go, so the client never gets a message cut short, nor two run together.
 */
function guarded ({ limit, refuse }: SendGuard): typeof WS.WebSocket {
  return class GuardedWebSocket extends WS.WebSocket {
    override send (data: WS.Data, options?: SendOptions, callback?: SendCallback): void {
      const buffered = this.bufferedAmount
      if (buffered > limit && this.readyState === WS.WebSocket.OPEN && (options as { fin?: boolean } | undefined)?.fin !== false &&
          (this as unknown as ServerWebSocket)._sender._firstFragment) {
        refuse(this, buffered, typeof options === 'function' ? options : callback)
        return
      }
      super.send(data, options as object, callback)
    }
  }
}

/**
 * Opens server-side WebSockets on connections whose handshake the plugin answered itself: what
 * ws's `handleUpgrade` does after its checks (negotiate permessage-deflate, then attach the
 * socket), without ws writing the 101. The options are ws's server options, resolved by ws.
 */
export class WebSocketOpener {
  private readonly options: ResolvedOptions

  /** `guard`: what the WebSockets do with messages sent to a client that does not keep up. */
  constructor (options: WS.ServerOptions, guard?: SendGuard) {
    const WebSocket = guard === undefined ? WS.WebSocket : guarded(guard)
    this.options = new WS.WebSocketServer({ ...options, WebSocket, noServer: true }).options as ResolvedOptions
  }

  /** What the client's Sec-WebSocket-Extensions offer agrees to; throws on an offer ws cannot read. */
  deflate (offer: string | undefined, maxPayload: number): Deflate | undefined {
    const { perMessageDeflate } = this.options
    if (perMessageDeflate === false || perMessageDeflate === undefined || offer === undefined) return undefined
    const offers = extension.parse(offer)[PerMessageDeflate.extensionName]
    if (offers === undefined) return undefined
    // `true` spreads to nothing: ws's defaults.
    const agreed = new PerMessageDeflate({ ...(perMessageDeflate as object), isServer: true, maxPayload })
    agreed.accept(offers)
    return { header: extension.format({ [PerMessageDeflate.extensionName]: [agreed.params] }), extension: agreed }
  }

  /** A WebSocket on `socket`, open at once; `head`: its first bytes, already read. */
  open (socket: Duplex, head: Buffer, protocol: string | false, deflate: Deflate | undefined, maxPayload: number): WS.WebSocket {
    const { options } = this
    const ws = new options.WebSocket(null, undefined, options)
    const internals = ws as unknown as ServerWebSocket
    if (protocol !== false) internals._protocol = protocol
    if (deflate !== undefined) internals._extensions = { [PerMessageDeflate.extensionName]: deflate.extension }
    internals.setSocket(socket, head, maxPayload === options.maxPayload ? options : { ...options, maxPayload })
    // ws handles the connection's errors from here on (it destroys it): the plugin's guard would
    // only be one more listener for an idle WebSocket to keep.
    unguardErrors(socket as Socket)
    return ws
  }
}
