import { subscribe } from 'node:diagnostics_channel'
import type { FastifyInstance, RouteOptions } from 'fastify'
import { FST_ERR_UPGRADE_ROUTE, FST_ERR_UPGRADE_UNSEEN_ROUTE } from '../errors'
import { kCompiled, kDeclaredHandler, kRegistered, kWatched } from '../symbols'

/** `true`: the plugin compiled the route's `upgrade` option; `false`: it saw the route without one. */
type MarkedRoute = RouteOptions & { [kCompiled]?: boolean, [kDeclaredHandler]?: RouteOptions['handler'] }

/**
 * The handler of a route as declared: with `upgrade: '<name>'` it is the protocol's, which
 * another plugin's onRoute hook that ran first may have wrapped as an HTTP handler (@fastify/websocket does).
 */
export function declaredHandler (route: RouteOptions): RouteOptions['handler'] {
  return (route as MarkedRoute)[kDeclaredHandler] ?? route.handler
}

/** The plugin saw this route, and compiled its `upgrade` option if it had one then. */
export function markSeen (route: RouteOptions): void {
  (route as MarkedRoute)[kCompiled] = route.upgrade !== undefined
}

/** The adapters of the plugin registered on this server, by name. */
type Registered = ReadonlyMap<string, unknown> | undefined
const registeredOn = (fastify: FastifyInstance): Registered => (fastify.server as { [kRegistered]?: Registered })[kRegistered]

/**
 * An `upgrade` option of fastify-upgrade's shape, or naming one of its adapters on this server;
 * another plugin's option of that name is left alone.
 */
function ours (upgrade: unknown, registered: Registered): boolean {
  if (typeof upgrade === 'string') return registered?.has(upgrade) === true
  return typeof upgrade === 'object' && upgrade !== null && 'protocols' in upgrade
}

function explain (fastify: FastifyInstance, route: MarkedRoute): Error {
  return new FST_ERR_UPGRADE_UNSEEN_ROUTE(route.method, route.url, registeredOn(fastify) === undefined
    ? 'fastify-upgrade is not registered on this server: `await app.register(fastifyUpgrade, { protocols: […] })` before declaring the route'
    : route[kCompiled] === false
      ? 'an onRoute hook added after fastify-upgrade set it: add that hook before registering fastify-upgrade'
      : 'fastify-upgrade was registered after this route, or in a scope that does not contain it: ' +
        '`await app.register(fastifyUpgrade, …)` before declaring the route, in its scope or a parent one')
}

/** A route with @fastify/websocket's options, and the scope it was declared in. */
type Foreign = [FastifyInstance, RouteOptions & { websocket?: unknown, wsHandler?: unknown }]

function foreignOption (route: Foreign[1]): string | undefined {
  if (route.websocket) return 'websocket: true'
  return route.wsHandler === undefined ? undefined : 'wsHandler'
}

/**
 * A route left over from @fastify/websocket (`websocket: true`, `wsHandler`) on a server with
 * fastify-upgrade and without @fastify/websocket in its scope: it would answer every request,
 * WebSocket or not, with a 500.
 */
function leftOver (fastify: FastifyInstance, foreign: Foreign[]): Error | undefined {
  if (registeredOn(fastify) === undefined) return undefined
  // As the routes stand once every hook has run: a hook may have turned the option into `upgrade`.
  const found = foreign.find(([scope, route]) => foreignOption(route) !== undefined && !scope.hasPlugin('@fastify/websocket'))
  if (found === undefined) return undefined
  const [, route] = found
  const option = foreignOption(route)
  return new FST_ERR_UPGRADE_ROUTE(route.method, route.url, `\`${option}\` is an option of @fastify/websocket, which is not registered ` +
    'in this scope: with fastify-upgrade, write `{ upgrade: \'websocket\' }` and keep the handler (docs/websocket.md), or register @fastify/websocket too')
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
  let foreign: Foreign[] = []
  // The first onRoute hook of every scope: it sees each route as declared.
  fastify.addHook('onRoute', function (route: Foreign[1] & MarkedRoute) {
    routes.push(route)
    if (typeof route.upgrade === 'string') route[kDeclaredHandler] = route.handler
    if (foreignOption(route) !== undefined) foreign.push([this, route])
  })
  fastify.addHook('onReady', async () => {
    const registered = registeredOn(fastify)
    const unseen = routes.find((route) => ours(route.upgrade, registered) && route[kCompiled] !== true)
    const leftOverError = leftOver(fastify, foreign)
    routes = []
    foreign = []
    if (unseen !== undefined) throw explain(fastify, unseen)
    if (leftOverError !== undefined) throw leftOverError
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
