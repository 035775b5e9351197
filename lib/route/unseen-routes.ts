import { subscribe } from 'node:diagnostics_channel'
import type { FastifyInstance, RouteOptions } from 'fastify'
import { FST_ERR_UPGRADE_UNSEEN_ROUTE } from '../errors'
import { kCompiled, kRegistered, kWatched } from '../symbols'

/** `true`: the plugin compiled the route's `upgrade` option; `false`: it saw the route without one. */
type MarkedRoute = RouteOptions & { [kCompiled]?: boolean }

/** The plugin saw this route, and compiled its `upgrade` option if it had one then. */
export function markSeen (route: RouteOptions): void {
  (route as MarkedRoute)[kCompiled] = route.upgrade !== undefined
}

/** An `upgrade` option of fastify-upgrade's shape; another plugin's option of that name is left alone. */
function ours (upgrade: unknown): boolean {
  return typeof upgrade === 'object' && upgrade !== null && 'protocols' in upgrade
}

function explain (fastify: FastifyInstance, route: MarkedRoute): Error {
  const registered = (fastify.server as { [kRegistered]?: true })[kRegistered] === true
  return new FST_ERR_UPGRADE_UNSEEN_ROUTE(route.method, route.url, !registered
    ? 'fastify-upgrade is not registered on this server: `await app.register(fastifyUpgrade, { protocols: […] })` before declaring the route'
    : route[kCompiled] === false
      ? 'an onRoute hook added after fastify-upgrade set it: add that hook before registering fastify-upgrade'
      : 'fastify-upgrade was registered after this route, or in a scope that does not contain it: ' +
        '`await app.register(fastifyUpgrade, …)` before declaring the route, in its scope or a parent one')
}

/**
 * Watches every route of a new Fastify instance, every scope included: a route whose `upgrade`
 * option the plugin did not compile (declared before the plugin, registered without `await`, in
 * a sibling scope, or set by a later onRoute hook) would serve every upgrade as plain HTTP, so
 * `ready()` fails instead. The routes are checked as they stand once every hook has run.
 */
function watch (fastify: FastifyInstance & { [kWatched]?: true }): void {
  if (fastify[kWatched] === true) return
  fastify[kWatched] = true
  let routes: MarkedRoute[] = []
  fastify.addHook('onRoute', (route) => { routes.push(route) })
  fastify.addHook('onReady', async () => {
    const unseen = routes.find((route) => ours(route.upgrade) && route[kCompiled] !== true)
    routes = []
    if (unseen !== undefined) throw explain(fastify, unseen)
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
