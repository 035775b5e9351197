import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod, RouteOptions } from 'fastify'
import type { ProtocolAdapter } from '../../types/index'
import { FST_ERR_UPGRADE_REQUIRED, FST_ERR_UPGRADE_ROUTE } from '../errors'
import { hasConnectionOption, protocolKey, type Offer } from '../kit/lists'
import { declined, refused, type DeclineReason } from '../registry/observe'
import { accept } from '../switch/accept'
import type { Exchange, ExchangeRequest } from '../switch/exchange'
import { switchingProtocols } from '../switch/respond'
import { acceptConnect, type ConnectRequest, type ConnectTarget } from '../switch/stream'
import { kConnect, kExchange } from '../symbols'
import type { Upgrader } from '../upgrader'
import { negotiate, type Choice, type RouteProtocols } from './negotiation'
import { RouteSwitch } from './route-switch'
import { declaredHandler, markSeen } from './unseen-routes'

interface UpgradeRoute {
  protocols: RouteProtocols
  adapters: ProtocolAdapter[]
  required: boolean
  /** The route's handler is the protocol's: plain HTTP gets the 426 whatever the connection speaks. */
  only: boolean
  /** The `Upgrade` value of a 426: the route's tokens in server preference order (U9). */
  advertised: string
  /** Further fields of a 426, by which adapters say how to switch to them. */
  fields: Record<string, string> | undefined
  /** The adapters that take an HTTP/2 extended CONNECT (RFC 8441) here, by `:protocol` key. */
  connect: Map<string, ConnectTarget>
  /** The route's URL as declared. */
  url: string
  /** What `negotiate` chose for each list of offers seen (gone with the list). */
  choices: WeakMap<Offer[], Choice[]>
}

/** A route's `upgrade` option, checked: adapter name to route value, and whether a switch is required. */
interface Declared {
  values: Map<string, unknown>
  required: boolean
  /** `upgrade: '<name>'`: the route's handler is the protocol's, and plain HTTP has none. */
  only: boolean
}

/**
 * The route's `upgrade` option, checked; `undefined` for a route without one. `upgrade: '<name>'`
 * is short for a route that speaks only that protocol: a switch is required, and the route's
 * handler is the protocol's handler (a continuation's is the route's own, as ever).
 */
function declared (upgrader: Upgrader, route: RouteOptions): Declared | undefined {
  const options = route.upgrade as { protocols?: Record<string, unknown>, required?: unknown } | string | null | undefined
  if (options === undefined) return undefined
  const fail = (message: string): Error => new FST_ERR_UPGRADE_ROUTE(route.method, route.url, message)
  if (typeof options === 'string') {
    const continuation = upgrader.settings.adapters.get(options)?.route?.value === 'continuation'
    return { values: new Map([[options, continuation ? true : declaredHandler(route)]]), required: true, only: !continuation }
  }
  if (options === null || typeof options !== 'object' || options.protocols === null || typeof options.protocols !== 'object') {
    throw fail('upgrade must be { protocols: { <adapter name>: true | handler }, required?: boolean }, or an adapter name')
  }
  if (options.required !== undefined && typeof options.required !== 'boolean') throw fail('upgrade.required must be a boolean')
  const names = Object.keys(options.protocols)
  if (names.length === 0) throw fail('upgrade.protocols names no protocol')
  return { values: new Map(names.map((name) => [name, options.protocols?.[name]])), required: options.required === true, only: false }
}

/** What is wrong with a route's value for `adapter`, by the adapter's `route.value`. */
function valueProblem (adapter: ProtocolAdapter, value: unknown): string | undefined {
  const rule = adapter.route?.value ?? 'handler'
  if (typeof rule === 'function') return rule(value)
  if (rule === 'continuation') return value === true ? undefined : `must be true: the route handler answers over ${adapter.name}`
  return typeof value === 'function' ? undefined : 'must be a handler (connection, request) => {}'
}

/**
 * What a route switches to: its own `protocols`, then the adapters that reach every route
 * (`route.allRoutes`) it does not name; `undefined` when that is nothing. `open`: compile even
 * an empty one, for a route an extended CONNECT may reach that must be able to refuse it.
 */
function compile (upgrader: Upgrader, route: RouteOptions, open: boolean): UpgradeRoute | undefined {
  const named = declared(upgrader, route)
  const { adapters: registered, allRoutes } = upgrader.settings
  if (named === undefined && allRoutes.length === 0 && !open) return undefined
  const values = named?.values ?? new Map<string, unknown>()
  for (const adapter of allRoutes) if (!values.has(adapter.name)) values.set(adapter.name, true)
  const protocols: RouteProtocols = new Map()
  const adapters: ProtocolAdapter[] = []
  const tokens: string[] = []
  let fields: Record<string, string> | undefined
  const connect = new Map<string, ConnectTarget>()
  let rank = 0
  for (const [name, value] of values) {
    const adapter = registered.get(name)
    if (adapter === undefined) {
      const known = [...registered.keys()].join(', ')
      throw new FST_ERR_UPGRADE_ROUTE(route.method, route.url, `unknown protocol "${name}" (registered: ${known === '' ? 'none' : known})`)
    }
    const problem = valueProblem(adapter, value)
    if (problem !== undefined) throw new FST_ERR_UPGRADE_ROUTE(route.method, route.url, `protocols.${name} ${problem}`)
    for (const token of adapter.tokens) protocols.set(protocolKey(token) as string, { adapter, value, rank })
    adapters.push(adapter)
    const { extendedConnect } = adapter
    if (extendedConnect !== undefined) connect.set(protocolKey(extendedConnect.protocol) as string, { adapter: adapter as ConnectTarget['adapter'], value })
    tokens.push(...(adapter.route?.advertise ?? adapter.tokens))
    if (adapter.route?.advertiseFields !== undefined) fields = { ...fields, ...adapter.route.advertiseFields }
    rank++
  }
  return { protocols, adapters, required: named?.required === true, only: named?.only === true, advertised: tokens.join(', '), fields, connect, url: route.url, choices: new WeakMap() }
}

/**
 * The first acceptable protocol whose adapter does not decline (an adapter may refuse by
 * throwing), switched to: the 101 is built from its fields now, so that one that cannot be sent
 * refuses the upgrade. Otherwise why not.
 */
function switchTo (upgrader: Upgrader, exchange: Exchange, route: UpgradeRoute, request: FastifyRequest, reply: FastifyReply): DeclineReason | undefined {
  const choices = route.choices.get(exchange.offers) ?? choose(upgrader, route, exchange.offers)
  for (const { offer, candidate: { adapter, value } } of choices) {
    const fields = adapter.check?.(request, reply, offer.token, value)
    if (fields === false) continue
    const head = switchingProtocols(adapter.name, offer.token, fields)
    const way = new RouteSwitch(upgrader, exchange, head, request, reply, adapter, offer, value, route.url)
    accept(upgrader, way, way)
    return undefined
  }
  return choices.length === 0 ? 'unsupported' : 'declined'
}

/** The route's choices for these offers, kept: clients send the same few `Upgrade` values (route/offers.ts), each one array. */
function choose (upgrader: Upgrader, route: UpgradeRoute, offers: Offer[]): Choice[] {
  const choices = negotiate(offers, route.protocols, upgrader.settings.preference)
  route.choices.set(offers, choices)
  return choices
}

/**
 * Why an upgrade request that did not come through Node's upgrade path with offers cannot
 * switch: its `Upgrade` does not count (U2, U12), or names no protocol an adapter speaks.
 * `undefined` for a request that asks for no upgrade.
 */
function cannotSwitch (request: FastifyRequest): DeclineReason | undefined {
  const { raw } = request
  if (raw.headers.upgrade === undefined || !hasConnectionOption(raw.headers.connection, 'upgrade')) return undefined
  return raw.method === 'HEAD' || raw.httpVersion !== '1.1' ? 'ignored' : 'unsupported'
}

/** A request that came through the upgrade path or as an extended CONNECT, or asks for an upgrade, or to a route that requires a protocol. */
function upgradeOrRequire (upgrader: Upgrader, fastify: FastifyInstance, upgrade: UpgradeRoute, handler: RouteHandlerMethod, request: FastifyRequest, reply: FastifyReply): unknown {
  const exchange = (request.raw as ExchangeRequest)[kExchange]
  let offers: Offer[] | undefined
  let reason: DeclineReason | undefined
  if (exchange !== undefined && exchange.offers.length > 0) {
    offers = exchange.offers
    try {
      reason = switchTo(upgrader, exchange, upgrade, request, reply)
    } catch (error) {
      refused(request, error as FastifyError)
      throw error
    }
    if (reason === undefined) return
    exchange.settle()
  } else {
    reason = cannotSwitch(request)
  }
  const connect = (request.raw as unknown as ConnectRequest)[kConnect]
  if (connect !== undefined) return acceptConnect(upgrader, upgrade.connect.get(connect.key), connect, request, reply)
  if (upgrade.required && !upgrade.adapters.some((adapter) => adapter.route?.isActive?.(request) === true)) requireUpgrade(upgrade, request, reply)
  if (reason !== undefined) declined(request, offers, reason, upgrader.requestLog(request, request.log))
  return handler.call(fastify, request, reply)
}

/** U9: the 426 of a route that requires a switch the request did not make. */
function requireUpgrade (upgrade: UpgradeRoute, request: FastifyRequest, reply: FastifyReply): never {
  // U11: an HTTP/2 message carries neither (and Node's http2 throws on them): the 426 body says it.
  if (request.raw.httpVersionMajor < 2) {
    reply.header('upgrade', upgrade.advertised).header('connection', 'upgrade')
    if (upgrade.fields !== undefined) reply.headers(upgrade.fields)
  }
  const error = new FST_ERR_UPGRADE_REQUIRED(upgrade.advertised)
  refused(request, error)
  throw error
}

function isGet (route: RouteOptions): boolean {
  return route.method === 'GET' || (Array.isArray(route.method) && route.method.includes('GET'))
}

/**
 * `onRoute` hook: checks a route's `upgrade` option at startup and wraps the handler of a route
 * that can switch. Every GET route is known to the extended CONNECT router; one with constraints
 * is wrapped even without `upgrade`, since a route the constraints choose may not take the CONNECT.
 */
export function createRouteHook (upgrader: Upgrader): (route: RouteOptions) => void {
  return function onRoute (route) {
    markSeen(route)
    const connectRoutes = isGet(route) ? upgrader.connectRoutes : undefined
    const upgrade = compile(upgrader, route, connectRoutes !== undefined && route.constraints !== undefined)
    connectRoutes?.add(route.url, upgrade?.connect.keys() ?? [])
    if (upgrade === undefined) return
    if (upgrade.protocols.size > 0) upgrader.routes.add(route.url)
    // A route that speaks only its protocol has no plain HTTP to serve, over any connection.
    const handler: RouteHandlerMethod = upgrade.only ? function (request, reply) { requireUpgrade(upgrade, request, reply) } : route.handler
    const { required } = upgrade
    // Kept to three reads and the call: with the upgrade and 426 logic inline here, a plain request
    // to the route cost about 10% more on Node 26 (bench/notes.md). An upgrade request that stayed
    // on Node's path (it names no protocol an adapter speaks) is still declined, and so heard of.
    route.handler = function upgradeRoute (this: FastifyInstance, request, reply) {
      const raw = request.raw as ExchangeRequest & ConnectRequest
      if (raw[kExchange] === undefined && raw[kConnect] === undefined && !required && raw.headers.upgrade === undefined) return handler.call(this, request, reply)
      return upgradeOrRequire(upgrader, this, upgrade, handler, request, reply)
    }
  }
}
