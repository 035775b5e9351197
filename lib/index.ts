import type { Socket } from 'node:net'
import type { FastifyInstance, FastifyPluginCallback } from 'fastify'
import fp from 'fastify-plugin'
import type { FastifyUpgradeOptions } from '../types/index'
import { h2c } from './adapters/h2c'
import { raw } from './adapters/raw'
import { FST_ERR_UPGRADE_OPTIONS } from './errors'
import { hasConnectionOption, parseUpgrade } from './negotiation'
import { resolveOptions } from './options'
import { ConnectionRegistry } from './registry'
import { createUpgradeListener, type Upgrader } from './request-path'
import { createRouteHook } from './route'
import { kRegistered } from './symbols'

type UpgradeServer = FastifyInstance['server'] & {
  [kRegistered]?: true
  shouldUpgradeCallback?: (req: { headers: Record<string, string | string[] | undefined> }) => boolean
}

const plugin: FastifyPluginCallback<FastifyUpgradeOptions> = function fastifyUpgrade (fastify, options, done) {
  const settings = resolveOptions(options)
  const server = fastify.server as UpgradeServer
  if (server[kRegistered] === true) throw new FST_ERR_UPGRADE_OPTIONS('the plugin is registered twice on one server')
  server[kRegistered] = true
  const upgrader: Upgrader = { fastify, settings, registry: new ConnectionRegistry() }

  const hold = (socket: Socket, close: () => void): void => { upgrader.registry.track(socket, close) }
  for (const adapter of settings.adapters.values()) adapter.setup?.(fastify, hold)
  fastify.addHook('onRoute', createRouteHook(upgrader))
  server.on('upgrade', createUpgradeListener(upgrader))
  // Node ≥ 22.21 and ≥ 24.9 read this per request: a request that offers no protocol we speak stays
  // on Node's own path (body, 100-continue, keep-alive); our route wrapper still answers its 426.
  server.shouldUpgradeCallback = (req) => {
    const { connection, upgrade } = req.headers
    return typeof connection === 'string' && typeof upgrade === 'string' && hasConnectionOption(connection, 'upgrade') &&
      parseUpgrade(upgrade).some((offer) => settings.keys.has(offer.key))
  }

  fastify.addHook('preClose', async () => {
    await upgrader.registry.closeAll(settings.closeTimeout)
    for (const adapter of settings.adapters.values()) await adapter.close?.()
  })
  done()
}

const fastifyUpgrade = fp(plugin, { fastify: '5.x', name: 'fastify-upgrade' })

export = Object.assign(fastifyUpgrade, { default: fastifyUpgrade, fastifyUpgrade, h2c, raw })
