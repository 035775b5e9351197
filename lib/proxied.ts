import type { IncomingMessage } from 'node:http'
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify'
import type { BehindProxy } from '../types/index'
import { FST_ERR_UPGRADE_OPTIONS } from './errors'

// Fields a forwarding proxy adds (RFC 9110 §7.6.3, RFC 7239, the de facto X-Forwarded-*).
const FORWARDING = /^(?:via|forwarded|x-forwarded-.*)$/i

/** Whether the peer is a proxy the server's `trustProxy` trusts: `request.ips` is Fastify's only public view of it. */
function trustedPeer (request: FastifyRequest): boolean {
  if (request.ips === undefined) return false
  // Asked about a request whose X-Forwarded-For names one more hop, Fastify includes that hop only
  // when it trusts the peer; the probe inherits the request's getters and sees this fake raw.
  const raw = { headers: { 'x-forwarded-for': '0.0.0.0' }, socket: request.raw.socket }
  const probe = Object.create(request, { raw: { value: raw } }) as FastifyRequest
  return (probe.ips as string[]).length > 1
}

/**
 * Whether a request reached the server through a proxy that can be seen: it carries `Via`,
 * `Forwarded` or an `X-Forwarded-*` field or, for a Fastify request, its peer is trusted by
 * `trustProxy`. A proxy that adds nothing and is not trusted cannot be told from a client.
 */
export function cameThroughProxy (request: FastifyRequest | IncomingMessage): boolean {
  const raw = 'raw' in request ? request.raw : request
  for (let i = 0; i < raw.rawHeaders.length; i += 2) {
    if (FORWARDING.test(raw.rawHeaders[i])) return true
  }
  return 'raw' in request && trustedPeer(request)
}

/**
 * S6: a continuation protocol opens a tunnel the proxy cannot see into, so by default it is not
 * switched for a request that came through one. `declines` says so, and logs it once per server.
 */
export function proxyPolicy (adapter: string, option: BehindProxy | undefined): (request: FastifyRequest | IncomingMessage, fastify: FastifyInstance, log: FastifyBaseLogger) => boolean {
  const value = option ?? 'refuse'
  if (value !== 'refuse' && value !== 'allow') throw new FST_ERR_UPGRADE_OPTIONS(`${adapter} behindProxy must be 'refuse' or 'allow'`)
  const warned = new WeakSet<object>()
  return function declines (request, fastify, log) {
    if (value === 'allow' || !cameThroughProxy(request)) return false
    if (!warned.has(fastify.server)) {
      warned.add(fastify.server)
      log.warn(`fastify-upgrade: declined an upgrade to ${adapter} that came through a proxy (Via, Forwarded, X-Forwarded-* or a trusted peer); ${adapter}({ behindProxy: 'allow' }) allows it, see "Behind a proxy" in the README`)
    }
    return true
  }
}
