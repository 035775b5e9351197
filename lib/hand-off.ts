import { validateHeaderName, validateHeaderValue, type IncomingMessage } from 'node:http'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import type { ProtocolAdapter, ServerWideContext, UpgradeContext } from '../types/index'
import { FST_ERR_UPGRADE_HANDLER } from './errors'
import type { Choice } from './negotiation'
import type { ServerWideAdapter } from './options'
import { release, sendContinue, unpause, type Exchange, type Upgrader } from './request-path'

const EMPTY = Buffer.alloc(0)

/** What `switch` and `serverWide` get, built once: a server-wide upgrade has Node's request and no route. */
type Context = UpgradeContext & ServerWideContext

/**
 * Accepts an upgrade: the body is in, so the socket leaves Fastify with the bytes that followed
 * the request back on it (U8), and `start` runs the adapter. The only way to write the 101 is
 * `switchProtocols`, which always names the protocol (S2).
 */
function takeOver (upgrader: Upgrader, exchange: Exchange, adapter: ProtocolAdapter, token: string, request: FastifyRequest | IncomingMessage,
  value: unknown, log: FastifyBaseLogger, start: (ctx: Context) => void | Promise<void>): void {
  const { socket, body } = exchange
  release(exchange)
  // The client left while hooks ran or the body was read: there is nobody to switch.
  if (socket.destroyed) return
  // U7: a client that waits for 100 gets it before the 101, even when there was no body to read.
  sendContinue(exchange)
  if (body.leftover.length > 0) socket.unshift(body.leftover)
  unpause(socket)
  upgrader.registry.track(socket, () => socket.end(), true)

  let switched = false
  const ctx = {
    socket,
    request,
    value,
    fastify: upgrader.fastify,
    token,
    log,
    handshakeTimeout: upgrader.settings.handshakeTimeout,
    body: adapter.rawBody === true ? body.rawBody() : EMPTY,
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
    onServerClose (close: () => void) {
      upgrader.registry.track(socket, close, true)
    }
  } as Context
  // The closures below live as long as the connection: they keep the URL, not the request and its body.
  const url = body.url
  const fail = (cause: unknown): void => {
    log.error({ err: new FST_ERR_UPGRADE_HANDLER(adapter.name, url, { cause }) }, 'fastify-upgrade: handler failed')
    socket.destroy()
  }
  try {
    const result = start(ctx)
    if (result !== undefined) result.catch(fail)
  } catch (error) {
    fail(error)
  }
}

/** Accepts the upgrade a route's handler chose. */
export function handOff (upgrader: Upgrader, exchange: Exchange, choice: Choice, request: FastifyRequest, reply: FastifyReply): void {
  const { adapter, value } = choice.candidate
  reply.hijack()
  takeOver(upgrader, exchange, adapter, choice.offer.token, request, value, request.log, (ctx) => adapter.switch(ctx))
}

/** Accepts an upgrade of `OPTIONS *`, which no route can match. */
export function handOffServerWide (upgrader: Upgrader, exchange: Exchange, adapter: ServerWideAdapter, token: string): void {
  const { fastify } = upgrader
  takeOver(upgrader, exchange, adapter, token, exchange.body, true, fastify.log, (ctx) => adapter.serverWide(ctx))
}
