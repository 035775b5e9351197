import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { hasConnectionOption, type Offer } from '../kit/lists'
import { afterResponseInFlight, closeAfterWrite, type RequestBody, type UpgradeListener } from '../node/index'
import { Exchange } from '../switch/exchange'
import { kOffers } from '../symbols'
import type { Upgrader } from '../upgrader'
import { acceptServerWide } from './server-wide'

const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'
const NONE: Offer[] = []

type FlaggedRequest = IncomingMessage & { [kOffers]?: Offer[] }

/** The client's `Upgrade` list, when it can name an adapter's protocol; empty when Upgrade does not count (U2, U3). */
function offersOf (upgrader: Upgrader, req: IncomingMessage): Offer[] {
  const { connection, upgrade } = req.headers
  const http11 = req.httpVersionMajor === 1 && req.httpVersionMinor === 1
  if (upgrade === undefined || !http11) return NONE
  const offers = upgrader.offers.of(upgrade)
  return offers.length > 0 && hasConnectionOption(connection, 'upgrade') ? offers : NONE
}

/**
 * The offers of a request that might switch, or none: it names a protocol an adapter speaks, to
 * a route that upgrades or as `OPTIONS *` (T5), and it is no HEAD (U12).
 */
function findOffers (upgrader: Upgrader, req: IncomingMessage): Offer[] {
  if (req.method === 'HEAD') return NONE
  const { keys, serverWide } = upgrader.settings
  const offers = offersOf(upgrader, req)
  if (req.url === '*') return req.method === 'OPTIONS' && offers.some((offer) => serverWide.has(offer.key)) ? offers : NONE
  return offers.some((offer) => keys.has(offer.key)) && upgrader.routes.has(req.url as string) ? offers : NONE
}

/**
 * `findOffers`, asked twice of a request that switches where Node asks `shouldUpgradeCallback`
 * (then in its `'upgrade'` event): the answer is kept on such a request only, since a property
 * added to every request Node flags would give those that stay on Node's path a shape of their own.
 */
export function switchOffers (upgrader: Upgrader, req: FlaggedRequest): Offer[] {
  const known = req[kOffers]
  /* c8 ignore next: Node asks on some lines only */
  if (known !== undefined) return known
  const offers = findOffers(upgrader, req)
  if (offers.length > 0) req[kOffers] = offers
  return offers
}

function begin (upgrader: Upgrader, socket: Socket, body: RequestBody, offers: Offer[]): void {
  if (!socket.writable) {
    // The response before it closed the connection.
    socket.destroy()
    return
  }
  const { fastify } = upgrader
  const { request } = body
  const http11 = request.httpVersionMajor === 1 && request.httpVersionMinor === 1
  if (http11 && request.headers.host === undefined && (fastify.server as { requireHostHeader?: boolean }).requireHostHeader !== false) {
    // What Node answers on its own path (RFC 9112 §3.2). The socket is paused: ending it alone
    // would never read the client's FIN, and the connection would stay open.
    socket.write(BAD_REQUEST)
    closeAfterWrite(socket)
    return
  }
  const exchange = new Exchange(upgrader, socket, body, offers)
  if (request.url === '*' && offers.length > 0) acceptServerWide(upgrader, exchange)
  else fastify.routing(request, exchange.res)
}

/** What the plugin does with each request Node flags as an upgrade: it goes through Fastify's routing from here. */
export function createUpgradeListener (upgrader: Upgrader): UpgradeListener {
  const { settings, registry } = upgrader
  return {
    foreign: (req, socket, head) => upgrader.foreign.dispatch(req, socket, head),
    upgrade (req, socket, open) {
      registry.track(socket)
      const offers = switchOffers(upgrader, req)
      // An adapter that replays the request over the new protocol (rawBody) needs its body bytes.
      const body = open(offers.length > 0 && settings.keepBody ? settings.maxBodySize : 0)
      // Node emits a pipelined upgrade while the previous response on the connection is still
      // being written: start once it is done, so that responses stay in order (U10).
      afterResponseInFlight(socket, () => { begin(upgrader, socket, body, offers) })
    }
  }
}
