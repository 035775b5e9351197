import type { IncomingMessage } from 'node:http'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { BehindProxy } from '../../types/index'
import { trustsPeer } from '../node/index'
import { checkOptions, is } from './options'

// Fields a forwarding proxy adds (RFC 9110 §7.6.3, RFC 7239, the de facto X-Forwarded-*).
const FORWARDING = /^(?:via|forwarded|x-forwarded-.*)$/i

/**
 * Whether a request reached the server through a proxy that can be seen: it carries `Via`,
 * `Forwarded` or an `X-Forwarded-*` field, or its peer is trusted by the server's `trustProxy`
 * (known from a Fastify request, or given `fastify` for Node's). A proxy that adds nothing and
 * is not trusted cannot be told from a client.
 */
export function cameThroughProxy (request: FastifyRequest | IncomingMessage, fastify?: FastifyInstance): boolean {
  const raw = 'raw' in request ? request.raw : request
  for (let i = 0; i < raw.rawHeaders.length; i += 2) {
    if (FORWARDING.test(raw.rawHeaders[i])) return true
  }
  const server = 'raw' in request ? request.server : fastify
  return server !== undefined && trustsPeer(server, raw.socket)
}

/**
 * S6: a continuation protocol opens a tunnel the proxy cannot see into, so by default it is not
 * switched for a request that came through one. The function says whether to decline, and logs
 * a warning once per server when it does.
 */
export function proxyPolicy (adapter: string, option: BehindProxy | undefined): (request: FastifyRequest | IncomingMessage, fastify: FastifyInstance) => boolean {
  checkOptions({ behindProxy: option }, `${adapter}()`, { behindProxy: is.oneOf('refuse', 'allow') })
  const warned = new WeakSet<object>()
  return function declines (request, fastify) {
    if (option === 'allow' || !cameThroughProxy(request, fastify)) return false
    if (!warned.has(fastify.server)) {
      warned.add(fastify.server)
      ;('log' in request ? request.log : fastify.log).warn(`fastify-upgrade: declined an upgrade to ${adapter} that came through a proxy (Via, Forwarded, X-Forwarded-* or a trusted peer); ${adapter}({ behindProxy: 'allow' }) allows it, see docs/deployment.md`)
    }
    return true
  }
}
