import { performance } from 'node:perf_hooks'
import type { Exchange } from '../switch/exchange'
import { accept, deny } from '../switch/accept'
import { switchedContext } from '../switch/context'
import { switchingProtocols } from '../switch/respond'
import { declined } from '../registry/observe'
import type { Upgrader } from '../upgrader'

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
  const { request } = exchange
  // Fastify does not see the request: its responseTime counts from here, as Fastify's from routing.
  const started = performance.now()
  const refuse = exchange.refuse.bind(exchange)
  for (const offer of exchange.offers) {
    const adapter = serverWide.get(offer.key)
    if (adapter === undefined) continue
    let head
    try {
      const fields = adapter.serverWide.check?.(request, offer.token, fastify)
      if (fields === false) continue
      head = switchingProtocols(adapter.name, offer.token, fields)
    } catch (error) {
      // S7: an adapter's check that throws refuses this request; the process goes on.
      deny({ request, refuse }, error as Parameters<typeof deny>[1])
      return
    }
    accept(upgrader, exchange.way(head, refuse), {
      adapter,
      protocol: offer.token,
      route: '*',
      log: fastify.log,
      timer: { get elapsedTime () { return performance.now() - started } },
      run: (life) => adapter.serverWide.switch(Object.assign(switchedContext(upgrader, life, offer.token), { request, fastify, log: fastify.log }))
    })
    return
  }
  exchange.settle()
  declined(request, exchange.offers, 'declined', upgrader.requestLog(request, fastify.log))
  exchange.res.writeHead(200, DECLINED).end()
}
