import type { Exchange } from './exchange'
import { accept } from './hand-off'
import type { Offer } from './negotiation'
import type { Upgrader } from './upgrader'

/**
 * RFC 2817 §3.2: `OPTIONS *` with Upgrade asks to switch the whole connection, not a resource
 * (T5: no other method). Fastify's router cannot match the asterisk-form, so the first offer an
 * adapter with `serverWide` speaks is accepted here, before routing and without hooks.
 */
export function acceptServerWide (upgrader: Upgrader, exchange: Exchange): void {
  const { serverWide } = upgrader.settings
  const offer = exchange.offers.find((candidate) => serverWide.has(candidate.key)) as Offer
  const adapter = serverWide.get(offer.key) as NonNullable<ReturnType<typeof serverWide.get>>
  accept(upgrader, exchange, {
    adapter,
    token: offer.token,
    value: true,
    request: exchange.request,
    log: upgrader.fastify.log,
    start: (ctx) => adapter.serverWide(ctx)
  }, (error, headers) => { exchange.refuse(error, headers) })
}
