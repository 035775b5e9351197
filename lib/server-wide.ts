import type { Exchange } from './exchange'
import { accept } from './hand-off'
import { declined } from './observe'
import type { Upgrader } from './upgrader'

// What a server that does not switch answers to `OPTIONS *` (RFC 9110 §9.3.7): a success, nothing more.
const DECLINED = { 'content-length': '0' }

/**
 * RFC 2817 §3.2: `OPTIONS *` with Upgrade asks to switch the whole connection, not a resource
 * (T5: no other method). Fastify's router cannot match the asterisk-form, so the first offer an
 * adapter with `serverWide` speaks and does not decline is accepted here, before routing and
 * without hooks; when all decline, the `OPTIONS *` is answered over HTTP/1.1.
 */
export function acceptServerWide (upgrader: Upgrader, exchange: Exchange): void {
  const { fastify, settings: { serverWide } } = upgrader
  for (const offer of exchange.offers) {
    const adapter = serverWide.get(offer.key)
    if (adapter === undefined || adapter.checkServerWide?.(exchange.request, fastify, offer.token) === false) continue
    accept(upgrader, exchange, {
      adapter,
      token: offer.token,
      value: true,
      fastify,
      request: exchange.request,
      log: fastify.log,
      route: '*',
      start: (ctx) => adapter.serverWide(ctx)
    }, (error, headers) => { exchange.refuse(error, headers) })
    return
  }
  exchange.settle()
  declined(exchange.request, exchange.offers)
  exchange.res.writeHead(200, DECLINED).end()
}
