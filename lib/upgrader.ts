import type { EventEmitter } from 'node:events'
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify'
import type { IncomingMessage } from 'node:http'
import type { ForeignUpgrades } from './in/foreign'
import type { Settings } from './options'
import type { ConnectionRegistry } from './registry/registry'
import type { ConnectRoutes } from './route/connect-routes'
import type { OfferCache } from './route/offers'
import type { RouteIndex } from './route/route-index'
import type { Deadlines } from './switch/deadlines'

/** The plugin's state on one server, shared by the ways in, the routes and the switch. */
export interface Upgrader {
  fastify: FastifyInstance
  settings: Settings
  registry: ConnectionRegistry
  /** Of the handshakes under way: `handshakeTimeout` from their start. */
  deadlines: Deadlines
  foreign: ForeignUpgrades
  /** The parsed `Upgrade` values clients send. */
  offers: OfferCache
  /** The paths of the routes that upgrade. */
  routes: RouteIndex
  /** Every GET route and the extended CONNECT `:protocol`s it takes; only when some adapter takes one. */
  connectRoutes: ConnectRoutes | undefined
  /** An adapter serves connections on `server`: an HTTP/2 server takes extended CONNECT there too. */
  onServe: (server: EventEmitter) => void
  /** `log` when Fastify logs this request's lines (`disableRequestLogging`), and so the plugin its own; else `undefined`. */
  requestLog: (request: FastifyRequest | IncomingMessage, log: FastifyBaseLogger) => FastifyBaseLogger | undefined
}
