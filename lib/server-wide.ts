import type { FastifyError } from 'fastify'
import { handOffServerWide } from './hand-off'
import type { Exchange, Upgrader } from './request-path'

/**
 * RFC 2817 §3.2: `OPTIONS *` with Upgrade asks to switch the whole connection, not a resource.
 * Fastify's router cannot match the asterisk-form, so an adapter with `serverWide` takes such a
 * request here, before routing and without hooks; otherwise (or at `maxConnections`) it is routed as usual.
 */
export function acceptServerWide (upgrader: Upgrader, exchange: Exchange): boolean {
  const { registry, settings } = upgrader
  if (registry.upgraded >= settings.maxConnections) return false
  for (const offer of exchange.offers) {
    const adapter = settings.serverWide.get(offer.key)
    if (adapter === undefined) continue
    // U8: the whole body is in before anything reaches the new protocol.
    exchange.body.drain(settings.maxBodySize, (error) => {
      if (error === undefined) {
        handOffServerWide(upgrader, exchange, adapter, offer.token)
        return
      }
      exchange.res.statusCode = (error as FastifyError).statusCode ?? 400
      exchange.res.end()
    })
    return true
  }
  return false
}
