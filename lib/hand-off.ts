import { validateHeaderName, validateHeaderValue } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { UpgradeContext } from '../types/index'
import { FST_ERR_UPGRADE_HANDLER } from './errors'
import type { Choice } from './negotiation'
import { release, sendContinue, unpause, type Exchange, type Upgrader } from './request-path'

const EMPTY = Buffer.alloc(0)

/**
 * Accepts an upgrade: the body is in, so the socket leaves Fastify with the bytes that followed
 * the request back on it (U8), and the adapter takes over. The only way to write the 101 is
 * `switchProtocols`, which always names the protocol (S2).
 */
export function handOff (upgrader: Upgrader, exchange: Exchange, choice: Choice, request: FastifyRequest, reply: FastifyReply): void {
  const { socket, body } = exchange
  const { adapter, value } = choice.candidate
  reply.hijack()
  release(exchange)
  // U7: a client that waits for 100 gets it before the 101, even when there was no body to read.
  sendContinue(exchange)
  if (body.leftover.length > 0) socket.unshift(body.leftover)
  unpause(socket)
  upgrader.registry.track(socket, () => socket.end(), true)

  let switched = false
  const ctx: UpgradeContext = {
    socket,
    request,
    token: choice.offer.token,
    value,
    body: adapter.rawBody === true ? body.rawBody() : EMPTY,
    log: request.log,
    handshakeTimeout: upgrader.settings.handshakeTimeout,
    switchProtocols (headers = {}, upgrade = choice.offer.token) {
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
      upgrader.registry.track(socket, close, true)
    }
  }
  const fail = (cause: unknown): void => {
    request.log.error({ err: new FST_ERR_UPGRADE_HANDLER(adapter.name, request.url, { cause }) }, 'fastify-upgrade: handler failed')
    socket.destroy()
  }
  try {
    const result = adapter.switch(ctx)
    if (result !== undefined) result.catch(fail)
  } catch (error) {
    fail(error)
  }
}
