import type { IncomingMessage } from 'node:http'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ConnectRoutes } from './connect-routes'
import type { ForeignUpgrades } from './foreign-upgrades'
import type { Settings } from './options'
import type { ConnectionRegistry } from './registry'
import type { RouteIndex } from './route-index'

/** The plugin's state on one server, shared by the request path, the routes and the hand-off. */
export interface Upgrader {
  fastify: FastifyInstance
  settings: Settings
  registry: ConnectionRegistry
  foreign: ForeignUpgrades
  /** Every GET route and the extended CONNECT `:protocol`s it takes; only when some adapter takes one. */
  connectRoutes: ConnectRoutes | undefined
  /** The paths of the routes that upgrade. */
  routes: RouteIndex
  /** Whether Fastify logs this request's lines (`disableRequestLogging`), and so the plugin its own. */
  logs: (request: FastifyRequest | IncomingMessage) => boolean
}
