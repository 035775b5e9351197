import type { FastifyUpgradeOptions, ProtocolAdapter } from '../types/index'
import { FST_ERR_UPGRADE_OPTIONS } from './errors'
import { protocolKey } from './negotiation'

export type ServerWideAdapter = ProtocolAdapter & Required<Pick<ProtocolAdapter, 'serverWide'>>

export interface Settings {
  adapters: Map<string, ProtocolAdapter>
  /** The comparison keys of every adapter's tokens. */
  keys: Set<string>
  /** Their protocol names (before any "/version"): an `Upgrade` value that holds none cannot switch. */
  names: string[]
  /** Adapters that accept an upgrade of `OPTIONS *`, by token key. */
  serverWide: Map<string, ServerWideAdapter>
  /** Adapters that take an HTTP/2 extended CONNECT (RFC 8441), by `:protocol` in lower case. */
  connect: Map<string, ProtocolAdapter>
  /** Adapters every route switches to, after those it names (`allRoutes`). */
  allRoutes: ProtocolAdapter[]
  /** Some adapter reads the raw request body in `switch` (`rawBody: true`). */
  keepBody: boolean
  preference: 'client' | 'server'
  maxBodySize: number
  handshakeTimeout: number
  maxConnections: number
  closeTimeout: number
}

function count (options: FastifyUpgradeOptions, name: 'maxBodySize' | 'handshakeTimeout' | 'maxConnections' | 'closeTimeout', fallback: number): number {
  const value = options[name] ?? fallback
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new FST_ERR_UPGRADE_OPTIONS(`${name} must be a number ≥ 0, got ${String(value)}`)
  }
  return value
}

export function resolveOptions (options: FastifyUpgradeOptions): Settings {
  if (!Array.isArray(options.protocols)) {
    throw new FST_ERR_UPGRADE_OPTIONS('protocols must be an array of adapters, e.g. [raw({ name, tokens })]')
  }
  const adapters = new Map<string, ProtocolAdapter>()
  const keys = new Set<string>()
  const serverWide = new Map<string, ServerWideAdapter>()
  const connect = new Map<string, ProtocolAdapter>()
  for (const adapter of options.protocols) {
    if (typeof adapter?.name !== 'string' || typeof adapter.switch !== 'function' || !Array.isArray(adapter.tokens)) {
      throw new FST_ERR_UPGRADE_OPTIONS('each protocol adapter needs a name, tokens and a switch function')
    }
    if (adapters.has(adapter.name)) throw new FST_ERR_UPGRADE_OPTIONS(`two adapters are named "${adapter.name}"`)
    if (adapter.allRoutes === true && !adapter.continuation) {
      throw new FST_ERR_UPGRADE_OPTIONS(`adapter "${adapter.name}" cannot reach every route: only a continuation adapter can, a hand-off needs a handler`)
    }
    if (adapter.tokens.length === 0) throw new FST_ERR_UPGRADE_OPTIONS(`adapter "${adapter.name}" has no tokens`)
    for (const token of adapter.tokens) {
      const key = protocolKey(token)
      if (key === undefined) throw new FST_ERR_UPGRADE_OPTIONS(`"${token}" of adapter "${adapter.name}" is not a protocol token`)
      if (keys.has(key)) throw new FST_ERR_UPGRADE_OPTIONS(`token "${token}" is answered by two adapters`)
      keys.add(key)
      if (adapter.serverWide !== undefined) serverWide.set(key, adapter as ServerWideAdapter)
    }
    if (adapter.connectProtocol !== undefined) {
      const key = protocolKey(adapter.connectProtocol)
      if (key === undefined || typeof adapter.connect !== 'function') {
        throw new FST_ERR_UPGRADE_OPTIONS(`adapter "${adapter.name}" needs a protocol token in connectProtocol and a connect function`)
      }
      if (connect.has(key)) throw new FST_ERR_UPGRADE_OPTIONS(`:protocol "${adapter.connectProtocol}" is taken by two adapters`)
      connect.set(key, adapter)
    }
    adapters.set(adapter.name, adapter)
  }
  const preference = options.preference ?? 'client'
  if (preference !== 'client' && preference !== 'server') {
    throw new FST_ERR_UPGRADE_OPTIONS(`preference must be 'client' or 'server', got ${String(preference)}`)
  }
  return {
    adapters,
    keys,
    names: [...new Set([...keys].map((key) => key.split('/', 1)[0]))],
    serverWide,
    connect,
    allRoutes: options.protocols.filter((adapter) => adapter.allRoutes === true),
    keepBody: options.protocols.some((adapter) => adapter.rawBody === true),
    preference,
    maxBodySize: count(options, 'maxBodySize', 65536),
    handshakeTimeout: count(options, 'handshakeTimeout', 10000),
    maxConnections: count(options, 'maxConnections', Infinity),
    closeTimeout: count(options, 'closeTimeout', 5000)
  }
}
