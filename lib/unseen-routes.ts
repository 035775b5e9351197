import { subscribe } from 'node:diagnostics_channel'
import type { FastifyInstance, RouteOptions } from 'fastify'
import { FST_ERR_UPGRADE_UNSEEN_ROUTE } from './errors'
import { kRegistered } from './symbols'

// Symbol.for: another copy of this package in the same process shares the marks, so neither
// reports a route the other compiled, and only one watches each instance.
const kCompiled = Symbol.for('fastify-upgrade.compiled')
const kWatched = Symbol.for('fastify-upgrade.watched')

type MarkedRoute = RouteOptions & { [kCompiled]?: true }

/** The plugin saw this route's `upgrade` option and compiled it. */
export function markCompiled (route: RouteOptions): void {
  (route as MarkedRoute)[kCompiled] = true
}

function explain (fastify: FastifyInstance, route: MarkedRoute): Error {
  const registered = (fastify.server as { [kRegistered]?: true })[kRegistered] === true
  return new FST_ERR_UPGRADE_UNSEEN_ROUTE(route.method, route.url, registered
    ? 'fastify-upgrade was registered after this route, or in a scope that does not contain it: ' +
      '`await app.register(fastifyUpgrade, …)` before declaring the route, in its scope or a parent one'
    : 'fastify-upgrade is not registered on this server: `await app.register(fastifyUpgrade, { protocols: […] })` before declaring the route')
}

/**
 * Watches every route of a new Fastify instance, every scope included: a route whose `upgrade`
 * option no plugin compiled (declared before the plugin, registered without `await`, or in a
 * sibling scope) would serve every upgrade as plain HTTP, so `ready()` fails instead.
 */
function watch (fastify: FastifyInstance & { [kWatched]?: true }): void {
  if (fastify[kWatched] === true) return
  fastify[kWatched] = true
  const routes: MarkedRoute[] = []
  fastify.addHook('onRoute', (route) => {
    if (route.upgrade === undefined) return
    if (routes.length === 0) {
      fastify.addHook('onReady', async () => {
        const unseen = routes.find((candidate) => candidate[kCompiled] !== true)
        if (unseen !== undefined) throw explain(fastify, unseen)
      })
    }
    routes.push(route)
  })
}

/**
 * At the plugin's registration: an app created before this module was loaded was not watched, so
 * a route the plugin does not see cannot be found; the log says so once.
 */
export function warnIfUnwatched (fastify: FastifyInstance & { [kWatched]?: true }): void {
  if (fastify[kWatched] === true) return
  fastify.log.warn('fastify-upgrade was loaded after this Fastify instance was created: a route with an upgrade option ' +
    'that the plugin does not see cannot be reported, and would serve every upgrade as plain HTTP. Import fastify-upgrade before calling Fastify()')
}

// Fastify announces each instance it creates; this module is loaded before the app is built
// whenever it is imported at the top of a file, as ESM imports always are.
subscribe('fastify.initialization', (message) => { watch((message as { fastify: FastifyInstance }).fastify) })
