import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { FastifyUpgradeOptions } from '../types/index'
import { h2c } from './adapters/h2c'
import { raw } from './adapters/raw'
import { tls } from './adapters/tls'
import { websocket } from './adapters/websocket'
import { FST_ERR_UPGRADE_OPTIONS } from './errors'
import { ForeignUpgrades } from './foreign-upgrades'
import { hasConnectionOption, parseUpgrade } from './negotiation'
import { resolveOptions } from './options'
import { ConnectionRegistry } from './registry'
import { createUpgradeListener, type Upgrader } from './request-path'
import { createRouteHook } from './route'
import { kRegistered } from './symbols'

type UpgradeServer = FastifyInstance['server'] & {
  [kRegistered]?: true
  shouldUpgradeCallback?: (req: IncomingMessage) => boolean
}

const plugin: FastifyPluginAsync<FastifyUpgradeOptions> = async function fastifyUpgrade (fastify, options) {
  const settings = resolveOptions(options)
  const server = fastify.server as UpgradeServer
  if (server[kRegistered] === true) throw new FST_ERR_UPGRADE_OPTIONS('the plugin is registered twice on one server')
  server[kRegistered] = true
  const upgrader: Upgrader = { fastify, settings, registry: new ConnectionRegistry(), foreign: new ForeignUpgrades() }

  const hold = (socket: Socket, close: () => void): void => { upgrader.registry.track(socket, close) }
  for (const adapter of settings.adapters.values()) adapter.setup?.(fastify, hold)
  fastify.addHook('onRoute', createRouteHook(upgrader))
  const onUpgrade = createUpgradeListener(upgrader)
  server.on('upgrade', onUpgrade)
  // Plugins registered before or after this one (@fastify/websocket) have added their listeners by now.
  fastify.addHook('onReady', async () => { upgrader.foreign.takeOver(server, onUpgrade) })
  // Node ≥ 22.21 and ≥ 24.9 read this per request: a request that offers no protocol we speak, and
  // none for a listener taken over, stays on Node's own path (body, 100-continue, keep-alive); our
  // route wrapper still answers its 426.
  server.shouldUpgradeCallback = (req) => {
    const { connection, upgrade } = req.headers
    return upgrader.foreign.wants(req) || (hasConnectionOption(connection, 'upgrade') &&
      parseUpgrade(upgrade).some((offer) => settings.keys.has(offer.key)))
  }

  fastify.addHook('preClose', async () => {
    await upgrader.registry.closeAll(settings.closeTimeout)
    for (const adapter of settings.adapters.values()) await adapter.close?.()
  })
}

const fastifyUpgrade = fp(plugin, { fastify: '5.x', name: 'fastify-upgrade' })

export = Object.assign(fastifyUpgrade, { default: fastifyUpgrade, fastifyUpgrade, h2c, raw, tls, websocket })
