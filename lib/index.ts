import type { IncomingMessage, Server } from 'node:http'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type FastifyUpgrade = require('../types/index')
import { h2c } from './adapters/h2c/index'
import { raw } from './adapters/raw/index'
import { tls } from './adapters/tls/index'
import { websocket } from './adapters/websocket/index'
import { FST_ERR_UPGRADE_OPTIONS } from './errors'
import { extendedConnectOn, fastifyHttp2Servers } from './in/extended-connect'
import { ForeignUpgrades } from './in/foreign'
import { claimInjectWS, injectUpgrade } from './in/inject'
import { Sniffer } from './in/preface'
import { createUpgradeListener, switchOffers } from './in/upgrade'
import { cameThroughProxy } from './kit/proxy'
import { clearIdleTimersOf, keepOnNodePath, onUpgrade, otherServers, ownShouldUpgrade, requestLogging } from './node/index'
import { fail, resolveOptions } from './options'
import { ConnectionRegistry } from './registry/registry'
import { ConnectRoutes } from './route/connect-routes'
import { OfferCache } from './route/offers'
import { createRouteHook } from './route/route'
import { RouteIndex } from './route/route-index'
import { warnIfUnwatched } from './route/unseen-routes'
import { Deadlines } from './switch/deadlines'
import { kRegistered } from './symbols'
import type { Upgrader } from './upgrader'

const plugin: FastifyPluginAsync<FastifyUpgrade.FastifyUpgradeOptions> = async function fastifyUpgrade (fastify, options) {
  const settings = resolveOptions(options)
  const server = fastify.server as Server & { [kRegistered]?: ReadonlyMap<string, unknown> }
  if (server[kRegistered] !== undefined) throw new FST_ERR_UPGRADE_OPTIONS('the plugin is registered twice on one server')
  server[kRegistered] = settings.adapters
  warnIfUnwatched(fastify)
  const routes = new RouteIndex()
  const registry = new ConnectionRegistry(settings.adapters.keys())
  const logs = requestLogging(fastify)
  const upgrader: Upgrader = {
    fastify,
    settings,
    registry,
    deadlines: new Deadlines(settings.handshakeTimeout),
    foreign: new ForeignUpgrades(routes),
    offers: new OfferCache(settings.names),
    routes,
    connectRoutes: settings.connect.size > 0 ? new ConnectRoutes(fastify) : undefined,
    onServe: (target) => { takeConnect([target]) },
    requestLog: (request, log) => logs(request) ? log : undefined
  }
  const takeConnect = extendedConnectOn(upgrader)
  const sniffer = new Sniffer(upgrader)
  fastify.decorate('upgrade', {
    connections: () => registry.connections(),
    // From any scope: broadcast code need not hold the adapter it registered.
    adapter: (name: string) => settings.adapters.get(name) ??
      fail(`no adapter named "${name}" is registered (registered: ${[...settings.adapters.keys()].join(', ')})`)
  })

  for (const adapter of settings.adapters.values()) adapter.start?.(fastify)
  fastify.decorate('injectUpgrade', injectUpgrade)
  claimInjectWS(fastify)
  fastify.addHook('onRoute', createRouteHook(upgrader))

  // Only a request that might switch, or is for a listener taken over, leaves Node's own path
  // (body, 100-continue, keep-alive) where Node lets the server choose.
  /* c8 ignore next: Node asks on some lines only */
  const wants = (req: IncomingMessage): boolean => switchOffers(upgrader, req).length > 0 || upgrader.foreign.wants(req)
  const attach = (target: Server): void => {
    keepOnNodePath(target, wants)
    sniffer.attach(target)
    if (fastify.initialConfig.http2 === true) clearIdleTimersOf(target)
  }
  // Plugins registered before or after this one (@fastify/websocket) have added their listeners by now.
  fastify.addHook('onReady', async () => {
    upgrader.foreign.takeOver(server, ownShouldUpgrade(server))
    onUpgrade(server, createUpgradeListener(upgrader))
    attach(server)
    takeConnect(fastifyHttp2Servers(upgrader, false))
  })
  // The servers of further addresses exist once Fastify listens; their 'upgrade' events come to `server`.
  fastify.addHook('onListen', async () => {
    for (const other of otherServers(fastify)) attach(other)
    takeConnect(fastifyHttp2Servers(upgrader, true))
  })

  fastify.addHook('preClose', async () => {
    sniffer.close()
    await upgrader.registry.closeAll(settings.closeTimeout)
    for (const adapter of settings.adapters.values()) await adapter.close?.()
  })
}

// Typed as the hand-written contract, which the assignments below make true.
const fastifyUpgrade = fp(plugin, { fastify: '5.x', name: 'fastify-upgrade' }) as typeof FastifyUpgrade

// Written out so that the build keeps these lines as they are: Node's ESM loader finds the named
// exports of a CommonJS module by scanning for literal `module.exports.<name> =` assignments
// (cjs-module-lexer), and `import { raw } from 'fastify-upgrade'` fails without them.
module.exports = fastifyUpgrade
module.exports.default = fastifyUpgrade
module.exports.fastifyUpgrade = fastifyUpgrade
module.exports.cameThroughProxy = cameThroughProxy
module.exports.h2c = h2c
module.exports.raw = raw
module.exports.tls = tls
module.exports.websocket = websocket

// For TypeScript importers of lib/index. tsc emits it as a last, repeated `module.exports =` and,
// unlike a type-only `export =`, without an `exports.__esModule` marker that Node would list as a name.
export = fastifyUpgrade
