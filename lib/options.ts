import type { ExtendedConnectCapability, FastifyUpgradeOptions, PrefaceCapability, ProtocolAdapter, ServerWideCapability } from '../types/index'
import { FST_ERR_UPGRADE_OPTIONS } from './errors'
import { protocolKey } from './kit/lists'
import { checkOptions, is } from './kit/options'

export type ServerWideAdapter = ProtocolAdapter & { serverWide: ServerWideCapability }
export type ConnectAdapter = ProtocolAdapter & { extendedConnect: ExtendedConnectCapability }
export type PrefaceAdapter = ProtocolAdapter & { preface: PrefaceCapability }

export interface Settings {
  adapters: Map<string, ProtocolAdapter>
  /** The comparison keys of every adapter's tokens. */
  keys: Set<string>
  /** Their protocol names (before any "/version"): an `Upgrade` value that holds none cannot switch. */
  names: string[]
  /** Adapters that accept an upgrade of `OPTIONS *`, by token key. */
  serverWide: Map<string, ServerWideAdapter>
  /** Adapters that take an HTTP/2 extended CONNECT (RFC 8441), by `:protocol` key. */
  connect: Map<string, ConnectAdapter>
  /** Adapters whose protocol a connection may speak from its first byte. */
  preface: PrefaceAdapter[]
  /** Adapters every route switches to, after those it names. */
  allRoutes: ProtocolAdapter[]
  /** Some adapter reads the raw request body in `switch` (`route.body`). */
  keepBody: boolean
  preference: 'client' | 'server'
  maxBodySize: number
  handshakeTimeout: number
  maxConnections: number
  maxStreamsPerConnection: number
  closeTimeout: number
}

const DEFAULTS = { maxBodySize: 65536, handshakeTimeout: 10000, maxConnections: Infinity, maxStreamsPerConnection: 100, closeTimeout: 5000 }

// Members of the adapter contract before it was reshaped, and where each went.
const MOVED: Record<string, string> = {
  continuation: "route: { value: 'continuation' }",
  validateRoute: 'route: { value (value) {} }',
  allRoutes: 'route: { allRoutes }',
  advertise: 'route: { advertise }',
  isActive: 'route: { isActive }',
  rawBody: 'route: { body: true }',
  setup: 'start',
  checkServerWide: 'serverWide: { check }',
  connectProtocol: 'extendedConnect: { protocol, connect }',
  connect: 'extendedConnect: { protocol, connect }',
  http2Server: 'nothing: an adapter with an HTTP/2 server of its own announces extended CONNECT through it by itself'
}

export function fail (message: string): never {
  throw new FST_ERR_UPGRADE_OPTIONS(message)
}

/** Checks one adapter's shape, with a message that says what to write instead. */
function checkAdapter (adapter: unknown, index: number): asserts adapter is ProtocolAdapter {
  if (typeof adapter === 'function') fail(`protocols[${index}] is the function ${adapter.name}: call it, as ${adapter.name}()`)
  if (adapter === null || typeof adapter !== 'object') fail(`protocols[${index}] is not an adapter: use websocket(), h2c(), tls({ key, cert }) or raw({ name, tokens })`)
  const { name, tokens, switch: switchTo, route, serverWide, extendedConnect, preface } = adapter as Partial<ProtocolAdapter>
  if (typeof name !== 'string' || name === '') fail(`protocols[${index}] needs a name`)
  for (const old of Object.keys(adapter)) {
    if (Object.hasOwn(MOVED, old)) fail(`adapter "${name}" has \`${old}\`, which is now ${MOVED[old]} (see docs/adapters.md)`)
  }
  if (!Array.isArray(tokens) || tokens.length === 0) fail(`adapter "${name}" needs tokens, the Upgrade protocols it answers`)
  if (typeof switchTo !== 'function') fail(`adapter "${name}" needs a switch(ctx) function`)
  const value = route?.value
  if (value !== undefined && value !== 'handler' && value !== 'continuation' && typeof value !== 'function') {
    fail(`adapter "${name}" route.value must be 'handler', 'continuation' or a function that checks a route's value`)
  }
  if (route?.allRoutes === true && value !== 'continuation') {
    fail(`adapter "${name}" cannot reach every route: only a continuation adapter can, a hand-off needs a handler`)
  }
  const fields = route?.advertiseFields
  if (fields !== undefined && (fields === null || typeof fields !== 'object' || !Object.values(fields).every((field) => typeof field === 'string'))) {
    fail(`adapter "${name}" route.advertiseFields must be an object of header fields, { name: 'value' }`)
  }
  if (serverWide !== undefined && typeof serverWide.switch !== 'function') fail(`adapter "${name}" serverWide needs a switch(ctx) function`)
  if (extendedConnect !== undefined && (protocolKey(String(extendedConnect.protocol)) === undefined || typeof extendedConnect.connect !== 'function')) {
    fail(`adapter "${name}" extendedConnect needs a protocol token and a connect(ctx) function`)
  }
  if (preface !== undefined && (typeof preface.detect !== 'function' || typeof preface.serve !== 'function')) {
    fail(`adapter "${name}" preface needs detect(bytes) and serve(ctx) functions`)
  }
}

export function resolveOptions (options: FastifyUpgradeOptions): Settings {
  if (!Array.isArray(options?.protocols)) {
    fail('register it with the protocols this server speaks: app.register(fastifyUpgrade, { protocols: [websocket()] })')
  }
  checkOptions(options, 'fastify-upgrade', {
    protocols: is.any,
    preference: is.oneOf('client', 'server'),
    maxBodySize: is.count,
    handshakeTimeout: is.count,
    maxConnections: is.count,
    maxStreamsPerConnection: is.count,
    closeTimeout: is.count
  })
  const settings: Settings = {
    ...DEFAULTS,
    adapters: new Map(),
    keys: new Set(),
    names: [],
    serverWide: new Map(),
    connect: new Map(),
    preface: [],
    allRoutes: [],
    keepBody: false,
    preference: 'client'
  }
  options.protocols.forEach((adapter, index) => {
    checkAdapter(adapter, index)
    if (settings.adapters.has(adapter.name)) fail(`two adapters are named "${adapter.name}"`)
    settings.adapters.set(adapter.name, adapter)
    for (const token of adapter.tokens) {
      const key = protocolKey(token) ?? fail(`"${token}" of adapter "${adapter.name}" is not a protocol token`)
      if (settings.keys.has(key)) fail(`token "${token}" is answered by two adapters`)
      settings.keys.add(key)
      if (adapter.serverWide !== undefined) settings.serverWide.set(key, adapter as ServerWideAdapter)
    }
    if (adapter.extendedConnect !== undefined) {
      const key = protocolKey(adapter.extendedConnect.protocol) as string
      if (settings.connect.has(key)) fail(`:protocol "${adapter.extendedConnect.protocol}" is taken by two adapters`)
      settings.connect.set(key, adapter as ConnectAdapter)
    }
    if (adapter.preface !== undefined) settings.preface.push(adapter as PrefaceAdapter)
    if (adapter.route?.allRoutes === true) settings.allRoutes.push(adapter)
    if (adapter.route?.body === true) settings.keepBody = true
  })
  settings.names = [...new Set([...settings.keys].map((key) => key.split('/', 1)[0]))]
  for (const name of ['preference', ...Object.keys(DEFAULTS)] as Array<'preference' | keyof typeof DEFAULTS>) {
    if (options[name] !== undefined) (settings as unknown as Record<string, unknown>)[name] = options[name]
  }
  return settings
}
