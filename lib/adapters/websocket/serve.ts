import type { FastifyBaseLogger } from 'fastify'
import type { WebSocket } from 'ws'
import type { UpgradeContext, UpgradeHandler } from '../../../types/index'
import { FST_ERR_UPGRADE_HANDLER } from '../../kit/index'

const GOING_AWAY = 1001
const PROTOCOL_ERROR = 1002
const INTERNAL_ERROR = 1011
// The close code ws sends when it fails a connection, by the error code it reports (ws's
// documented `WS_ERR_*` codes; every other one is a protocol error, RFC 6455 §7.4.1).
const SENT: Record<string, number> = {
  WS_ERR_INVALID_UTF8: 1007,
  WS_ERR_TOO_MANY_BUFFERED_PARTS: 1008,
  WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: 1009,
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009
}

function sentCode (error: Error & { code?: string }): number {
  return SENT[error.code as string] ?? PROTOCOL_ERROR
}

/** What serving a WebSocket needs of its context: a switched connection's or an extended CONNECT's stream. */
type ServeContext = Pick<UpgradeContext, 'request' | 'reportClose' | 'onServerClose'>

/** What the listeners below need of a served WebSocket; Node calls them with the WebSocket as `this`. */
class Served {
  /** The socket waits for the handler to listen for messages, or to settle. */
  paused = true
  /** Why the server ended the connection: the protocol error ws failed it with, or a client too slow. */
  failure: { code: number, reason: string } | undefined = undefined
  constructor (
    readonly log: FastifyBaseLogger,
    // The URL, not the request: this lives as long as the connection, the request need not.
    readonly url: string,
    readonly report: (details: Record<string, unknown>) => void,
    readonly clients: Set<WebSocket> | undefined
  ) {}
}

// The adapter's own mark: it uses nothing of the plugin's but the kit.
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
  served.failure = { code: sentCode(err), reason: err.message }
  served.log.debug({ err }, 'fastify-upgrade: websocket error')
}

// 'close' fires once: no `once` wrapper. ws's close code is the client's; a connection the server
// ended may get no answer (ws failed it, or the client reads nothing), so the report says what the server sent.
function onClose (this: WebSocket, code: number, reason: Buffer): void {
  const { clients, failure, report } = servedOf(this)
  clients?.delete(this)
  report(failure ?? { code, reason: reason.toString() })
}

/** Closes a WebSocket whose client does not keep up; `failure` is what its close reports. */
export function closeSlow (socket: WebSocket, failure: { code: number, reason: string }): void {
  servedOf(socket).failure = failure
  socket.close(failure.code, failure.reason)
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
export function serve (ctx: ServeContext, handler: UpgradeHandler<WebSocket>, socket: WebSocket, clients: Set<WebSocket> | undefined): void {
  (socket as ServedWebSocket)[kServed] = new Served(ctx.request.log, ctx.request.url, ctx.reportClose(), clients)
  socket.on('error', onError)
  socket.on('close', onClose)
  ctx.onServerClose(goAway.bind(socket))
  clients?.add(socket)
  socket.pause()
  socket.on('newListener', onNewListener)
  try {
    const result = handler.call(ctx.request.server, socket, ctx.request)
    if (result instanceof Promise) result.then(() => { flow(socket) }, (error: unknown) => { fail(socket, error) })
    else flow(socket)
  } catch (error) {
    fail(socket, error)
  }
}
