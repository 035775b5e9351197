import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod, RouteOptions } from 'fastify'
import type { ProtocolAdapter } from '../types/index'
import { FST_ERR_UPGRADE_REQUIRED, FST_ERR_UPGRADE_ROUTE } from './errors'
import type { Exchange, ExchangeRequest } from './exchange'
import { acceptConnect, type ConnectRequest, type ConnectTarget } from './extended-connect'
import { accept } from './hand-off'
import { negotiate, protocolKey, type Choice, type RouteProtocols } from './negotiation'
import { declined, refused } from './observe'
import { kConnect, kExchange } from './symbols'
import { markCompiled } from './unseen-routes'
import type { Upgrader } from './upgrader'

interface UpgradeRoute {
  protocols: RouteProtocols
  adapters: ProtocolAdapter[]
  required: boolean
  /** The `Upgrade` value of a 426: the route's tokens in server preference order (U9). */
  advertised: string
  /** The adapters that take an HTTP/2 extended CONNECT (RFC 8441) here, by `:protocol` key. */
  connect: Map<string, ConnectTarget>
}

/** The route's `upgrade` option, checked; `undefined` for a route without one. */
function declared (route: RouteOptions): Map<string, unknown> | undefined {
  if (route.upgrade === undefined) return undefined
  const fail = (message: string): Error => new FST_ERR_UPGRADE_ROUTE(route.method, route.url, message)
  const options = route.upgrade as { protocols?: Record<string, unknown>, required?: unknown } | null
  if (options === null || typeof options !== 'object' || options.protocols === null || typeof options.protocols !== 'object') {
    throw fail('upgrade must be { protocols: { <adapter name>: true | handler }, required?: boolean }')
  }
  if (options.required !== undefined && typeof options.required !== 'boolean') throw fail('upgrade.required must be a boolean')
  const names = Object.keys(options.protocols)
  if (names.length === 0) throw fail('upgrade.protocols names no protocol')
  return new Map(names.map((name) => [name, options.protocols?.[name]]))
}

/**
 * What a route switches to: its own `protocols`, then the adapters that reach every route
 * (`allRoutes`) it does not name; `undefined` when that is nothing.
 */
function compile (upgrader: Upgrader, route: RouteOptions): UpgradeRoute | undefined {
  const named = declared(route)
  const { adapters: registered, allRoutes } = upgrader.settings
  if (named === undefined && allRoutes.length === 0) return undefined
  const fail = (message: string): Error => new FST_ERR_UPGRADE_ROUTE(route.method, route.url, message)
  const values = named ?? new Map<string, unknown>()
  for (const adapter of allRoutes) if (!values.has(adapter.name)) values.set(adapter.name, true)
  const protocols: RouteProtocols = new Map()
  const adapters: ProtocolAdapter[] = []
  const tokens: string[] = []
  const connect = new Map<string, ConnectTarget>()
  let rank = 0
  for (const [name, value] of values) {
    const adapter = registered.get(name)
    if (adapter === undefined) {
      const known = [...registered.keys()].join(', ')
      throw fail(`unknown protocol "${name}" (registered: ${known === '' ? 'none' : known})`)
    }
    if (adapter.validateRoute !== undefined) {
      const problem = adapter.validateRoute(value)
      if (problem !== undefined) throw fail(`protocols.${name} ${problem}`)
    } else if (adapter.continuation && value !== true) {
      throw fail(`protocols.${name} must be true: the route handler answers over ${name}`)
    } else if (!adapter.continuation && typeof value !== 'function') {
      throw fail(`protocols.${name} must be a handler (connection, request) => {}`)
    }
    for (const token of adapter.tokens) protocols.set(protocolKey(token) as string, { adapter, value, rank })
    adapters.push(adapter)
    if (adapter.connectProtocol !== undefined) connect.set(protocolKey(adapter.connectProtocol) as string, { adapter, value })
    tokens.push(...(adapter.advertise ?? adapter.tokens))
    rank++
  }
  return { protocols, adapters, required: (route.upgrade as { required?: boolean } | undefined)?.required === true, advertised: tokens.join(', '), connect }
}

/** The first acceptable protocol whose adapter does not decline; an adapter may also refuse by throwing. */
function choose (upgrader: Upgrader, route: UpgradeRoute, exchange: Exchange, request: FastifyRequest, reply: FastifyReply): Choice | undefined {
  for (const choice of negotiate(exchange.offers, route.protocols, upgrader.settings.preference)) {
    const { check } = choice.candidate.adapter
    if (check === undefined || check.call(choice.candidate.adapter, request, reply, choice.offer.token) !== false) return choice
  }
  return undefined
}

/** Switches to the protocol the route's handler chose; the reply is Fastify's no more. */
function switchTo (upgrader: Upgrader, fastify: FastifyInstance, exchange: Exchange, choice: Choice, request: FastifyRequest, reply: FastifyReply): void {
  const { adapter, value } = choice.candidate
  accept(upgrader, exchange, {
    adapter,
    fastify,
    token: choice.offer.token,
    value,
    request,
    log: request.log,
    route: request.routeOptions.url as string,
    start: (ctx) => {
      reply.hijack()
      return adapter.switch(ctx)
    }
  }, (error, headers = {}) => { reply.headers(headers).send(error) })
}

/** A request that came through the upgrade path or as an extended CONNECT, or to a route that requires a protocol. */
function upgradeOrRequire (upgrader: Upgrader, fastify: FastifyInstance, upgrade: UpgradeRoute, handler: RouteHandlerMethod, request: FastifyRequest, reply: FastifyReply): unknown {
  const exchange = (request.raw as ExchangeRequest)[kExchange]
  if (exchange !== undefined && exchange.offers.length > 0) {
    let choice
    try {
      choice = choose(upgrader, upgrade, exchange, request, reply)
    } catch (error) {
      refused(request, error as FastifyError)
      throw error
    }
    if (choice !== undefined) return switchTo(upgrader, fastify, exchange, choice, request, reply)
    exchange.settle()
    declined(request, exchange.offers)
  }
  const connect = (request.raw as unknown as ConnectRequest)[kConnect]
  if (connect !== undefined) return acceptConnect(upgrader, fastify, upgrade.connect.get(connect.key), connect, request, reply)
  if (upgrade.required && !upgrade.adapters.some((adapter) => adapter.isActive?.(request) === true)) {
    // U11: an HTTP/2 message carries neither (and Node's http2 throws on them): the 426 body says it.
    if (request.raw.httpVersionMajor < 2) reply.header('upgrade', upgrade.advertised).header('connection', 'upgrade')
    const error = new FST_ERR_UPGRADE_REQUIRED(upgrade.advertised)
    refused(request, error)
    throw error
  }
  return handler.call(fastify, request, reply)
}

/**
 * `onRoute` hook: checks a route's `upgrade` option at startup and wraps the handler of a route
 * that can switch.
 */
export function createRouteHook (upgrader: Upgrader): (route: RouteOptions) => void {
  return function onRoute (route) {
    const upgrade = compile(upgrader, route)
    if (upgrader.connectRoutes !== undefined && (route.method === 'GET' || (Array.isArray(route.method) && route.method.includes('GET')))) {
      upgrader.connectRoutes.add(route.url, upgrade?.connect.keys() ?? [])
    }
    if (upgrade === undefined) return
    markCompiled(route)
    upgrader.routes.add(route.url)
    const handler = route.handler as RouteHandlerMethod
    const { required } = upgrade
    // Kept to two reads and the call: with the upgrade and 426 logic inline here, a plain request
    // to the route cost about 10% more on Node 26 (bench/notes.md).
    route.handler = function upgradeRoute (this: FastifyInstance, request, reply) {
      const raw = request.raw as ExchangeRequest & ConnectRequest
      if (raw[kExchange] === undefined && raw[kConnect] === undefined && !required) return handler.call(this, request, reply)
      return upgradeOrRequire(upgrader, this, upgrade, handler, request, reply)
    }
  }
}
