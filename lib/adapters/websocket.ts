import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import type { UpgradeContext, UpgradeHandler, WebSocketAdapter, WebSocketOptions, WebSocketRoute } from '../../types/index'
import { FST_ERR_UPGRADE_HANDLER, FST_ERR_UPGRADE_OPTIONS } from '../errors'
import { checkHandshake, selectSubprotocol } from './websocket-handshake'
import { answerOnStream } from './websocket-http2'
import { routeProblem, toRoute } from './websocket-route'

// A client message larger than this closes the connection with 1009 unless configured:
// ws's own default (100 MiB) lets one client hold that much memory per message.
const DEFAULT_MAX_PAYLOAD = 1024 * 1024
const GOING_AWAY = 1001
const INTERNAL_ERROR = 1011
const ABNORMAL = 1006
const EMPTY = Buffer.alloc(0)
// An extended CONNECT has no Sec-WebSocket-Key (RFC 8441 §5), but ws's handshake needs one; its Accept is never sent.
const NO_KEY = 'AAAAAAAAAAAAAAAAAAAAAA=='

/** The subprotocol chosen for one handshake, read back by ws's `handleProtocols`. */
const kSubprotocol = Symbol('fastify-upgrade.websocket.subprotocol')

interface HandshakeView {
  method: string
  headers: IncomingMessage['headers']
  [kSubprotocol]: string | false
}

function checkOptions (options: WebSocketOptions): void {
  const { maxPayload, allowedOrigins, handleProtocols, clientTracking, http2 } = options
  if (maxPayload !== undefined && !(Number.isSafeInteger(maxPayload) && maxPayload >= 0)) {
    throw new FST_ERR_UPGRADE_OPTIONS(`websocket maxPayload must be an integer ≥ 0, got ${String(maxPayload)}`)
  }
  if (allowedOrigins !== undefined && typeof allowedOrigins !== 'function' && !Array.isArray(allowedOrigins)) {
    throw new FST_ERR_UPGRADE_OPTIONS('websocket allowedOrigins must be an array of origins or a function')
  }
  if (clientTracking !== undefined && typeof clientTracking !== 'boolean') {
    throw new FST_ERR_UPGRADE_OPTIONS('websocket clientTracking must be a boolean')
  }
  if (http2 !== undefined && typeof http2 !== 'boolean') {
    throw new FST_ERR_UPGRADE_OPTIONS('websocket http2 must be a boolean')
  }
  if (handleProtocols !== undefined && typeof handleProtocols !== 'function') {
    throw new FST_ERR_UPGRADE_OPTIONS('websocket handleProtocols must be a function')
  }
}

/**
 * The close code ws sent when it failed the connection: its errors carry it under a symbol of
 * their own; 1006 (closed abnormally) should a later ws keep it elsewhere.
 */
function sentCode (error: Error): number {
  const symbol = Object.getOwnPropertySymbols(error).find((s) => s.description === 'status-code')
  /* c8 ignore next: ws 8 has it */
  return symbol === undefined ? ABNORMAL : (error as unknown as Record<symbol, number>)[symbol]
}

/** What serving a WebSocket needs of its context: a switched connection's or an extended CONNECT's stream. */
type ServeContext = Pick<UpgradeContext, 'request' | 'log' | 'fastify' | 'reportClose' | 'onServerClose'>

/** What the listeners below need of a served WebSocket; Node calls them with the WebSocket as `this`. */
class Served {
  /** The socket waits for the handler to listen for messages, or to settle. */
  paused = true
  /** The protocol error ws failed the connection with. */
  failure: Error | undefined = undefined
  constructor (
    readonly log: ServeContext['log'],
    // The URL, not the request: this lives as long as the connection, the request need not.
    readonly url: string,
    readonly report: (details: Record<string, unknown>) => void,
    readonly clients: Set<WebSocket> | undefined
  ) {}
}

const kServed = Symbol('fastify-upgrade.websocket.served')
type ServedWebSocket = WebSocket & { [kServed]: Served }
const servedOf = (socket: WebSocket): Served => (socket as ServedWebSocket)[kServed]

function flow (socket: WebSocket): void {
  const served = servedOf(socket)
  if (!served.paused) return
  served.paused = false
  socket.removeListener('newListener', onNewListener)
  socket.resume()
}

function onNewListener (this: WebSocket, event: string | symbol): void {
  if (event === 'message') flow(this)
}

// ws reports protocol errors (bad frames, maxPayload) here after closing; unheard, they would crash the process.
function onError (this: WebSocket, err: Error): void {
  const served = servedOf(this)
  served.failure = err
  served.log.debug({ err }, 'fastify-upgrade: websocket error')
}

// 'close' fires once: no `once` wrapper. ws's close code is the client's; a connection ws failed
// gets no answer, so the report says what ws sent.
function onClose (this: WebSocket, code: number, reason: Buffer): void {
  const { clients, failure, report } = servedOf(this)
  clients?.delete(this)
  report(failure === undefined ? { code, reason: reason.toString() } : { code: sentCode(failure), reason: failure.message })
}

function goAway (this: WebSocket): void {
  this.close(GOING_AWAY)
  // The client's closing frame must be read for the close handshake to end.
  flow(this)
}

function fail (socket: WebSocket, cause: unknown): void {
  const { log, url } = servedOf(socket)
  log.error({ err: new FST_ERR_UPGRADE_HANDLER('websocket', url, { cause }) }, 'fastify-upgrade: websocket handler failed')
  socket.close(INTERNAL_ERROR)
  flow(socket)
}

/**
 * Runs the route's handler. The socket stays paused until the handler listens for messages or
 * settles, so an async handler that attaches its listeners late still gets the first messages.
 * A handler that throws or rejects closes its socket with 1011; the process goes on. What stays
 * for the life of the connection is one `Served` and shared listeners, not closures.
 */
function serve (ctx: ServeContext, handler: UpgradeHandler<WebSocket>, socket: WebSocket, clients: Set<WebSocket> | undefined): void {
  (socket as ServedWebSocket)[kServed] = new Served(ctx.log, ctx.request.url, ctx.reportClose(), clients)
  socket.on('error', onError)
  socket.on('close', onClose)
  ctx.onServerClose(goAway.bind(socket))
  clients?.add(socket)
  socket.pause()
  socket.on('newListener', onNewListener)
  try {
    const result = handler.call(ctx.fastify, socket, ctx.request)
    if (result instanceof Promise) result.then(() => { flow(socket) }, (error: unknown) => { fail(socket, error) })
    else flow(socket)
  } catch (error) {
    fail(socket, error)
  }
}

/** WebSocket (RFC 6455) on ws: after the 101 the route's handler owns ws's `WebSocket`. */
export function websocket (options: WebSocketOptions = {}): WebSocketAdapter {
  checkOptions(options)
  const { allowedOrigins, handleProtocols } = options
  // Open WebSockets of every route, for broadcast, as ws's `clients`.
  const clients = new Set<WebSocket>()
  const tracked = options.clientTracking === false ? undefined : clients
  // One noServer WebSocketServer per maxPayload in use: ws reads it from the server's options.
  const servers = new Map<number, WebSocketServer>()
  const serverFor = (maxPayload: number): WebSocketServer => {
    let server = servers.get(maxPayload)
    if (server === undefined) {
      server = new WebSocketServer({
        noServer: true,
        clientTracking: false,
        maxPayload,
        perMessageDeflate: options.perMessageDeflate ?? false,
        autoPong: options.autoPong ?? true,
        skipUTF8Validation: options.skipUTF8Validation ?? false,
        handleProtocols: (_offered, view) => (view as unknown as HandshakeView)[kSubprotocol]
      })
      servers.set(maxPayload, server)
    }
    return server
  }

  /**
   * ws checks the handshake again and writes its answer: it sees `Upgrade: websocket` alone, since
   * the client's list may name more protocols, and the subprotocol chosen here.
   */
  const handshake = (ctx: ServeContext & { value: unknown }, socket: Socket, headers: IncomingMessage['headers']): void => {
    const route = toRoute(ctx.value as UpgradeHandler<WebSocket> | WebSocketRoute)
    const view: HandshakeView = {
      method: 'GET',
      headers: { ...ctx.request.headers, upgrade: 'websocket', ...headers },
      [kSubprotocol]: selectSubprotocol(ctx.request, route.protocols ?? [], handleProtocols)
    }
    serverFor(route.maxPayload ?? options.maxPayload ?? DEFAULT_MAX_PAYLOAD)
      .handleUpgrade(view as unknown as IncomingMessage, socket, EMPTY, (websocket) => { serve(ctx, route.handler, websocket, tracked) })
  }

  return {
    name: 'websocket',
    clients,
    tokens: ['websocket'],
    continuation: false,
    validateRoute: routeProblem,
    check (request, reply) {
      checkHandshake(request, reply, allowedOrigins)
    },
    switch (ctx) {
      // ws writes the 101 itself, always with `Upgrade: websocket` and `Connection: Upgrade` (S2).
      // The bytes after the request are already back on the socket.
      handshake(ctx, ctx.socket, {})
    },
    connectProtocol: options.http2 === false ? undefined : 'websocket',
    connect (ctx) {
      answerOnStream(ctx.stream, (headers) => { ctx.respond(headers) })
      handshake(ctx, ctx.stream as unknown as Socket, { 'sec-websocket-key': NO_KEY })
    },
    async close () {
      await Promise.all([...servers.values()].map((server) => new Promise((resolve) => { server.close(resolve) })))
    }
  }
}
