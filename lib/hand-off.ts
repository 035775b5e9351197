import { validateHeaderName, validateHeaderValue, type IncomingMessage } from 'node:http'
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import type { ProtocolAdapter, ServerWideContext, UpgradeContext } from '../types/index'
import { FST_ERR_UPGRADE_HANDLER, FST_ERR_UPGRADE_TOO_MANY } from './errors'
import type { Exchange } from './exchange'
import { endWhenIdle, serve, serverOf } from './node/connection'
import { refused, UpgradedConnection } from './observe'
import { peek } from './peek'
import type { Upgrader } from './upgrader'

const EMPTY = Buffer.alloc(0)
// Seconds a client is asked to wait when maxConnections is reached.
const RETRY_AFTER = '5'

/** What `switch` and `serverWide` get, built once: a server-wide upgrade has Node's request and no route. */
type Context = UpgradeContext & ServerWideContext

/** A protocol an exchange switches to, and how its adapter starts. */
export interface Target {
  adapter: ProtocolAdapter
  /** The `Upgrade` token chosen, as the client sent it. */
  token: string
  value: unknown
  /** The instance the handler runs in: the route's encapsulation context. */
  fastify: FastifyInstance
  request: FastifyRequest | IncomingMessage
  log: FastifyBaseLogger
  /** The route's URL as declared (`*` for `OPTIONS *`). */
  route: string
  start: (ctx: Context) => void | Promise<void>
}

/** Answers an upgrade that cannot go ahead, with an HTTP error. */
export type Refuse = (error: FastifyError, headers?: Record<string, string>) => void

/**
 * The connection leaves HTTP: the bytes that followed the request back on it (U8), and `start`
 * runs the adapter. The only way to write the 101 is `switchProtocols`, which always names the
 * protocol (S2).
 */
function takeOver (upgrader: Upgrader, exchange: Exchange, target: Target): void {
  const socket = exchange.takeSocket()
  // The client left while hooks ran or the body was read: there is nobody to switch.
  if (socket === undefined) return
  const { registry, settings } = upgrader
  const { adapter, token, log, route, request, fastify } = target
  registry.track(socket, () => socket.end(), adapter.name)
  const upgraded = new UpgradedConnection({
    socket, request, adapter: adapter.name, protocol: token, route, log: upgrader.logs(request) ? log : undefined
  })
  // The closures below live as long as the connection: they keep the URL, not the request and its body.
  const url = exchange.request.url
  const fail = (cause: unknown): void => {
    log.error({ err: new FST_ERR_UPGRADE_HANDLER(adapter.name, url, { cause }) }, 'fastify-upgrade: handler failed')
    socket.destroy()
  }

  let switched = false
  const ctx = {
    socket,
    request,
    value: target.value,
    fastify,
    token,
    log,
    handshakeTimeout: settings.handshakeTimeout,
    body: adapter.rawBody === true ? exchange.request.rawBody() : EMPTY,
    switchProtocols (headers = {}, upgrade = token) {
      if (switched) throw new Error('101 Switching Protocols was already sent')
      validateHeaderValue('upgrade', upgrade)
      if (upgrade.trim() === '') throw new Error('a 101 must name the protocol in Upgrade')
      let head = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${upgrade}\r\nConnection: upgrade\r\n`
      for (const name in headers) {
        validateHeaderName(name)
        validateHeaderValue(name, headers[name])
        head += `${name}: ${headers[name]}\r\n`
      }
      switched = true
      socket.write(head + '\r\n')
    },
    onServerClose (close) {
      registry.track(socket, close, adapter.name)
    },
    reportClose () {
      return upgraded.hold()
    },
    serve (next, options = {}) {
      if (options.server !== undefined) {
        serve(options.server, next, options.head)
        return
      }
      // HTTP/1.1 goes on over `next` (TLS): Node's HTTP server serves it, and it ends once idle on close.
      serve(serverOf(socket), next, options.head)
      registry.track(socket, () => { endWhenIdle(next) }, adapter.name)
    },
    peek (decide, done) {
      // S7: what the adapter does with the bytes runs in a socket event, where a throw would end the process.
      peek(socket, settings.handshakeTimeout, decide, (answer, bytes) => {
        try {
          done(answer, bytes)
        } catch (error) {
          fail(error)
        }
      })
    }
  } as Context
  try {
    const result = target.start(ctx)
    if (result !== undefined) result.catch(fail)
  } catch (error) {
    fail(error)
  }
}

function deny (target: Target, refuse: Refuse, error: FastifyError, headers?: Record<string, string>): void {
  refused(target.request, error)
  refuse(error, headers)
}

/**
 * Accepts an upgrade, from a route or `OPTIONS *` alike: within `maxConnections`, once the whole
 * body is in (U8; at once when it already is), or refused with an HTTP error.
 */
export function accept (upgrader: Upgrader, exchange: Exchange, target: Target, refuse: Refuse): void {
  const { registry, settings } = upgrader
  if (registry.upgraded >= settings.maxConnections) {
    deny(target, refuse, new FST_ERR_UPGRADE_TOO_MANY(), { 'retry-after': RETRY_AFTER })
    return
  }
  exchange.request.drain(settings.maxBodySize, (error) => {
    if (error === undefined) takeOver(upgrader, exchange, target)
    else deny(target, refuse, error as FastifyError)
  })
}
