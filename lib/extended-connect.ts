import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http'
import { constants, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ProtocolAdapter, StreamContext } from '../types/index'
import type { ConnectRoutes } from './connect-routes'
import { FST_ERR_UPGRADE_CONNECT_PROTOCOL, FST_ERR_UPGRADE_HANDLER, FST_ERR_UPGRADE_NO_ROUTE, FST_ERR_UPGRADE_TOO_MANY } from './errors'
import { protocolKey } from './negotiation'
import { presentAsGet, takeExtendedConnect, type Http2Listener } from './node/extended-connect'
import { refused, UpgradedConnection } from './observe'
import { otherServers } from './servers'
import { kConnect } from './symbols'
import type { Upgrader } from './upgrader'

// Seconds a client is asked to wait when maxConnections is reached, as on HTTP/1.1.
const RETRY_AFTER = '5'

/** The extended CONNECT a request carries: the adapter its `:protocol` names. */
export interface ConnectMark {
  adapter: ProtocolAdapter
  /** The `:protocol` as the client sent it. */
  protocol: string
  /** Its comparison key. */
  key: string
}

export type ConnectRequest = Http2ServerRequest & { [kConnect]?: ConnectMark }

/** A route's adapter that takes an extended CONNECT, and the route's value for it. */
export interface ConnectTarget {
  adapter: ProtocolAdapter
  value: unknown
}

/** Answers on the stream itself, where no route (and so no Fastify reply) is involved. */
function answer (res: Http2ServerResponse, error: FastifyError): void {
  const statusCode = error.statusCode as number
  const body = JSON.stringify({ statusCode, code: error.code, error: STATUS_CODES[statusCode], message: error.message })
  res.writeHead(statusCode, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/**
 * The `'connect'` listener of an HTTP/2 server: an extended CONNECT (RFC 8441) whose `:protocol`
 * an adapter speaks, to a route that takes it, goes through Fastify's routing as the route's GET,
 * marked, so that its hooks run and the route hands it to the adapter. An unknown `:protocol`, or
 * one the route does not take, gets 501 (RFC 9220 §3, the same extended CONNECT over HTTP/3: "a
 * `:protocol` value that is unknown or is not supported" SHOULD get 501; RFC 8441 names no status,
 * and 501 is RFC 9110 §15.6.2's "does not support the functionality required"); a path no route
 * has gets 404 (RFC 9110 §15.5.5).
 */
export function createConnectListener (upgrader: Upgrader, routes: ConnectRoutes): (req: Http2ServerRequest, res: Http2ServerResponse, protocol: string) => void {
  return function onExtendedConnect (req, res, protocol) {
    const key = protocolKey(protocol)
    const adapter = key === undefined ? undefined : upgrader.settings.connect.get(key)
    if (adapter === undefined) {
      answer(res, new FST_ERR_UPGRADE_CONNECT_PROTOCOL(protocol))
      return
    }
    const taken = routes.find(req.url)
    if (taken === undefined) answer(res, new FST_ERR_UPGRADE_NO_ROUTE(req.url))
    else if (!taken.has(key as string)) answer(res, new FST_ERR_UPGRADE_CONNECT_PROTOCOL(protocol))
    else {
      (req as ConnectRequest)[kConnect] = { adapter, protocol, key: key as string }
      presentAsGet(req)
      upgrader.fastify.routing(req as unknown as IncomingMessage, res as unknown as ServerResponse)
    }
  }
}

function deny (request: FastifyRequest, reply: FastifyReply, error: FastifyError, headers: Record<string, string> = {}): void {
  refused(request, error)
  reply.headers(headers).send(error)
}

/**
 * Runs in the route handler, after the hooks: the adapter takes the stream (E2), within
 * `maxConnections` and unless its `check` refuses, and it is tracked as an upgraded connection.
 */
export function acceptConnect (upgrader: Upgrader, fastify: FastifyInstance, target: ConnectTarget | undefined, mark: ConnectMark, request: FastifyRequest, reply: FastifyReply): void {
  const { registry, settings } = upgrader
  const { adapter, protocol } = mark
  if (target === undefined || adapter.check?.(request, reply, protocol) === false) {
    deny(request, reply, new FST_ERR_UPGRADE_CONNECT_PROTOCOL(protocol))
    return
  }
  if (registry.upgraded >= settings.maxConnections) {
    deny(request, reply, new FST_ERR_UPGRADE_TOO_MANY(), { 'retry-after': RETRY_AFTER })
    return
  }
  reply.hijack()
  const stream = (request.raw as unknown as Http2ServerRequest).stream
  // The client reset the stream while the hooks ran: there is nobody to serve.
  if (stream.destroyed) return
  const { log } = request
  const route = request.routeOptions.url as string
  registry.track(stream, () => { stream.close() }, adapter.name, true)
  const upgraded = new UpgradedConnection({
    socket: stream, request, adapter: adapter.name, protocol, route, log: upgrader.logs(request) ? log : undefined
  })
  // The closure below lives as long as the stream: it keeps the URL, not the request.
  const url = request.url
  const fail = (cause: unknown): void => {
    log.error({ err: new FST_ERR_UPGRADE_HANDLER(adapter.name, url, { cause }) }, 'fastify-upgrade: handler failed')
    stream.close(constants.NGHTTP2_INTERNAL_ERROR)
  }
  const ctx: StreamContext = {
    stream,
    request,
    protocol,
    value: target.value,
    fastify,
    log,
    respond (headers = {}) {
      if (stream.headersSent) throw new Error('the extended CONNECT was already answered')
      stream.respond({ ...headers, ':status': 200 })
    },
    onServerClose (close) {
      registry.track(stream, close, adapter.name, true)
    },
    reportClose () {
      return upgraded.hold()
    }
  }
  try {
    const result = (adapter as Required<Pick<ProtocolAdapter, 'connect'>>).connect(ctx)
    if (result !== undefined) result.catch(fail)
  } catch (error) {
    fail(error)
  }
}

/** Fastify's own HTTP/2 servers: the main one, or those of each further address once listening. */
function fastifyHttp2Servers (fastify: FastifyInstance, listening: boolean): Http2Listener[] {
  if (fastify.initialConfig.http2 !== true) return []
  return (listening ? otherServers(fastify) : [fastify.server]) as unknown as Http2Listener[]
}

/**
 * Takes extended CONNECT (E1: and announces it) on Fastify's HTTP/2 servers and the adapters'
 * own (h2c), once some route takes it; `listening`: the servers of further addresses, which exist
 * once Fastify listens. Without such a route nothing changes: Node answers CONNECT with 405.
 */
export function serveExtendedConnect (upgrader: Upgrader, listening: boolean): void {
  const routes = upgrader.connectRoutes
  if (routes?.any !== true) return
  const servers = fastifyHttp2Servers(upgrader.fastify, listening)
  if (!listening) {
    for (const adapter of upgrader.settings.adapters.values()) {
      const server = adapter.http2Server?.()
      if (server !== undefined) servers.push(server as unknown as Http2Listener)
    }
  }
  const onConnect = createConnectListener(upgrader, routes)
  for (const server of servers) takeExtendedConnect(server, onConnect)
}
