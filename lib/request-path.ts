import { ServerResponse, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { hasConnectionOption, parseUpgrade, type Offer } from './negotiation'
import type { ForeignUpgrades } from './foreign-upgrades'
import type { Settings } from './options'
import type { ConnectionRegistry } from './registry'
import { UpgradeRequest } from './request-body'
import { acceptServerWide } from './server-wide'
import { kExchange } from './symbols'

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n'
const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'

export interface Upgrader {
  fastify: FastifyInstance
  settings: Settings
  registry: ConnectionRegistry
  foreign: ForeignUpgrades
}

/** One request on Node's upgrade path, from its head until it switches or is served as HTTP. */
export interface Exchange {
  socket: Socket
  res: ServerResponse
  body: UpgradeRequest
  /** The client's `Upgrade` list; empty when the request cannot switch (U2, U3). */
  offers: Offer[]
  expectContinue: boolean
  continued: boolean
  timer: NodeJS.Timeout
  onSocketClose: () => void
  onSocketEnd: () => void
}

export type ExchangeRequest = UpgradeRequest & { [kExchange]?: Exchange }

/** Node removed its own error listener on the upgrade path: without one, a reset would crash the process. */
function onSocketError (this: Socket): void {
  this.destroy()
}

/** Ends what the exchange set up on the socket, when the connection switches or goes back to HTTP. */
export function release (exchange: Exchange): void {
  clearTimeout(exchange.timer)
  exchange.socket.removeListener('close', exchange.onSocketClose)
  exchange.socket.removeListener('end', exchange.onSocketEnd)
  exchange.res.detachSocket(exchange.socket)
}

/** Returns the socket to its initial flow state: a paused socket would not resume for a new data listener. */
export function unpause (socket: Socket): void {
  (socket as { readableFlowing: boolean | null }).readableFlowing = null
}

export function sendContinue (exchange: Exchange): void {
  if (!exchange.expectContinue || exchange.continued) return
  exchange.continued = true
  exchange.socket.write(CONTINUE)
}

/**
 * After a declined upgrade was answered, the connection goes on as HTTP/1.1 (U10): what followed
 * the request goes back on the socket for a new parser, under Node's keep-alive idle timeout.
 */
function handBack (upgrader: Upgrader, exchange: Exchange): void {
  const { socket, res, body } = exchange
  release(exchange)
  // `_last` is Node's own verdict that this response closes the connection.
  if ((res as ServerResponse & { _last: boolean })._last || !body.complete || socket.destroyed) {
    socket.destroySoon()
    return
  }
  const server = upgrader.fastify.server
  if (body.leftover.length > 0) socket.unshift(body.leftover)
  unpause(socket)
  socket.removeListener('error', onSocketError)
  // Node counts a connection as idle only once it has served a request on it: until then it is ours to close.
  upgrader.registry.track(socket, () => socket.destroy())
  server.emit('connection', socket)
  socket.setTimeout(server.keepAliveTimeout)
  socket.prependOnceListener('data', () => {
    upgrader.registry.untrack(socket)
    socket.setTimeout(server.timeout)
  })
}

/** Node's `'upgrade'` listener: every request it flags as an upgrade goes through Fastify's routing from here. */
export function createUpgradeListener (upgrader: Upgrader): (req: IncomingMessage, socket: Socket, head: Buffer) => void {
  const { fastify, settings, registry } = upgrader

  function begin (req: IncomingMessage, socket: Socket, head: Buffer): void {
    if (!socket.writable) {
      // The response before it closed the connection.
      socket.destroy()
      return
    }
    const http11 = req.httpVersionMajor === 1 && req.httpVersionMinor === 1
    if (http11 && req.headers.host === undefined && (fastify.server as { requireHostHeader?: boolean }).requireHostHeader !== false) {
      // What Node answers on its own path (RFC 9112 §3.2).
      socket.end(BAD_REQUEST)
      return
    }
    const connection = req.headers.connection
    const offers = http11 && hasConnectionOption(connection, 'upgrade') ? parseUpgrade(req.headers.upgrade) : []
    // An adapter that replays the request over the new protocol (rawBody) needs its body bytes.
    const body = new UpgradeRequest(req, socket, head, offers.length > 0 && settings.keepBody ? settings.maxBodySize : 0) as ExchangeRequest
    const res = new ServerResponse(body)
    res.shouldKeepAlive = http11 && !hasConnectionOption(connection, 'close')
    const exchange: Exchange = {
      socket,
      res,
      body,
      offers,
      expectContinue: http11 && req.headers.expect?.toLowerCase() === '100-continue',
      continued: false,
      timer: setTimeout(() => {
        // A response already under way is let finish; a stalled head, body or hook is cut off.
        if (res.headersSent) return
        fastify.log.debug({ url: req.url }, 'fastify-upgrade: handshake timeout')
        socket.destroy()
      }, settings.handshakeTimeout),
      onSocketClose: () => {
        clearTimeout(exchange.timer)
        body.abort()
      },
      // As Node does on its own path: a client that stops sending aborts its request.
      onSocketEnd: () => {
        body.abort()
        socket.end()
      }
    }
    body[kExchange] = exchange
    if (exchange.expectContinue && !body.complete) body.once('resume', () => { sendContinue(exchange) })
    socket.on('close', exchange.onSocketClose)
    socket.on('end', exchange.onSocketEnd)
    res.assignSocket(socket)
    res.on('finish', () => { handBack(upgrader, exchange) })
    if (req.url === '*' && acceptServerWide(upgrader, exchange)) return
    fastify.routing(body, res)
  }

  return function onUpgrade (req, socket, head) {
    if (upgrader.foreign.dispatch(req, socket, head)) return
    if (socket.listenerCount('error', onSocketError) === 0) socket.on('error', onSocketError)
    registry.track(socket)
    // Node emits a pipelined upgrade while the previous response on the connection is still being
    // written: start once it is done, so that responses stay in order (U10).
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage
    if (inFlight != null) {
      inFlight.once('finish', () => { begin(req, socket, head) })
    } else {
      begin(req, socket, head)
    }
  }
}
