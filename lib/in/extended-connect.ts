import type { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { constants, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2'
import type { FastifyError } from 'fastify'
import { FST_ERR_UPGRADE_CONNECT_PROTOCOL, FST_ERR_UPGRADE_NO_ROUTE } from '../errors'
import { protocolKey } from '../kit/lists'
import { otherServers, presentAsGet, takeExtendedConnect, type Http2Listener } from '../node/index'
import type { ConnectRoutes } from '../route/connect-routes'
import { writeError } from '../switch/respond'
import type { ConnectRequest } from '../switch/stream'
import { kConnect, kStreams } from '../symbols'
import type { Upgrader } from '../upgrader'

/** Extended CONNECT streams open on one session, counted from the stream (which keeps no closure for it). */
interface OpenStreams { open: number }
type CountedSession = ServerHttp2Session & { [kStreams]?: OpenStreams }
type CountedStream = ServerHttp2Stream & { [kStreams]?: OpenStreams }

function onStreamClose (this: CountedStream): void {
  (this[kStreams] as OpenStreams).open--
}

/**
 * E4: a session holds at most `max` extended CONNECT streams at once; beyond it a stream is
 * refused (RFC 9113 §8.7: REFUSED_STREAM, which a client may retry) and the session stays up.
 */
function admit (stream: CountedStream, max: number): boolean {
  const session = stream.session as CountedSession
  const streams = session[kStreams] ??= { open: 0 }
  if (streams.open >= max) return false
  streams.open++
  stream[kStreams] = streams
  stream.once('close', onStreamClose)
  return true
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
function createConnectListener (upgrader: Upgrader, routes: ConnectRoutes): (req: Http2ServerRequest, res: Http2ServerResponse, protocol: string) => void {
  const { connect, maxStreamsPerConnection } = upgrader.settings
  const refuse = (req: Http2ServerRequest, res: Http2ServerResponse, error: FastifyError): void => {
    writeError(res, error, {}, upgrader.requestLog(req as unknown as IncomingMessage, upgrader.fastify.log))
  }
  return function onExtendedConnect (req, res, protocol) {
    const key = protocolKey(protocol)
    const adapter = key === undefined ? undefined : connect.get(key)
    const taken = adapter === undefined ? undefined : routes.find(req.url)
    if (adapter === undefined || (taken !== undefined && !taken.has(key as string))) refuse(req, res, new FST_ERR_UPGRADE_CONNECT_PROTOCOL(protocol))
    else if (taken === undefined) refuse(req, res, new FST_ERR_UPGRADE_NO_ROUTE(req.url))
    else if (!admit(req.stream, maxStreamsPerConnection)) req.stream.close(constants.NGHTTP2_REFUSED_STREAM)
    else {
      (req as ConnectRequest)[kConnect] = { adapter, protocol, key: key as string }
      presentAsGet(req)
      upgrader.fastify.routing(req as unknown as IncomingMessage, res as unknown as ServerResponse)
    }
  }
}

/**
 * Takes extended CONNECT (E1: and announces it) on `servers` once some route takes it. Without
 * such a route nothing changes: Node answers CONNECT with 405. Each server is taken once.
 */
export function extendedConnectOn (upgrader: Upgrader): (servers: EventEmitter[]) => void {
  const taken = new WeakSet<EventEmitter>()
  let onConnect: ReturnType<typeof createConnectListener> | undefined
  return (servers) => {
    const routes = upgrader.connectRoutes
    if (routes?.any !== true) return
    onConnect ??= createConnectListener(upgrader, routes)
    for (const server of servers) {
      if (taken.has(server) || !('updateSettings' in server)) continue
      taken.add(server)
      takeExtendedConnect(server as Http2Listener, onConnect)
    }
  }
}

/** Fastify's own HTTP/2 servers: the main one, or those of each further address once listening. */
export function fastifyHttp2Servers (upgrader: Upgrader, listening: boolean): EventEmitter[] {
  const { fastify } = upgrader
  if (fastify.initialConfig.http2 !== true) return []
  return listening ? otherServers(fastify) : [fastify.server]
}
