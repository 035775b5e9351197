import type { IncomingMessage } from 'node:http'
import { constants, type ServerHttp2Stream } from 'node:http2'
import type { Duplex } from 'node:stream'
import type { FastifyBaseLogger, FastifyError, FastifyRequest } from 'fastify'
import type { ProtocolAdapter } from '../../types/index'
import { FST_ERR_UPGRADE_HANDLER, FST_ERR_UPGRADE_TOO_MANY } from '../errors'
import { heard, refused, UNOBSERVED, upgraded, writer } from '../registry/observe'
import type { Upgrader } from '../upgrader'

// Seconds a client is asked to wait when maxConnections is reached.
const RETRY_AFTER = '5'

/** Answers an upgrade that cannot go ahead with an HTTP error; `close`: the connection closes after it. */
export type Refuse = (error: FastifyError, headers?: Record<string, string>, close?: boolean) => void

/**
 * How a switch reaches its client: an HTTP/1.1 exchange (a route, or `OPTIONS *`) whose
 * connection switches after a 101, or an HTTP/2 stream (RFC 8441) that carries the protocol after a 200.
 */
export interface Way {
  request: FastifyRequest | IncomingMessage
  /** An HTTP/2 stream, inside a connection that outlives it. */
  stream: boolean
  refuse: Refuse
  /** Calls `done` once the request is whole (U8), or with why it cannot be. */
  ready: (limit: number, done: (error?: Error) => void) => void
  /** Sends the success answer: the connection the protocol goes on over, `undefined` when the client left. */
  open: () => Duplex | undefined
}

/** What an adapter's context is built from: the switched connection, and what ends it. */
export interface Lifecycle {
  connection: Duplex
  onServerClose: (close: () => void) => void
  reportClose: () => (details: Record<string, unknown>) => void
  /** The adapter failed: logged, and the connection (or stream) ends at once. */
  fail: (cause: unknown) => void
}

export interface Target {
  adapter: ProtocolAdapter
  /** The `Upgrade` token as sent, or the `:protocol`. */
  protocol: string
  /** The route's URL as declared (`*` for `OPTIONS *`). */
  route: string
  log: FastifyBaseLogger
  /** How long the request has taken, as Fastify counts it: the route's reply, or the exchange of `OPTIONS *`. */
  timer: { readonly elapsedTime: number }
  /** Builds the adapter's context and calls it. */
  run: (life: Lifecycle) => void | Promise<void>
}

/** Refuses a switch, with the `fastify-upgrade.refuse` message. */
export function deny (way: Pick<Way, 'request' | 'refuse'>, error: FastifyError, headers?: Record<string, string>, close?: boolean): void {
  refused(way.request, error)
  way.refuse(error, headers, close)
}

// How an upgraded connection (or stream) is closed on `fastify.close()` until its adapter says otherwise.
function endConnection (connection: Duplex): void {
  connection.end()
}

function closeStream (stream: Duplex): void {
  (stream as ServerHttp2Stream).close()
}

function start (upgrader: Upgrader, way: Way, target: Target): void {
  const connection = way.open()
  // The client left while hooks ran or the body was read: there is nobody to switch.
  if (connection === undefined) return
  const { registry } = upgrader
  const { adapter, protocol, log } = target
  const { stream } = way
  const lines = writer(upgrader.requestLog(way.request, log), 'info')
  const { observer, report } = heard(lines)
    ? upgraded({ socket: connection, request: way.request, adapter: adapter.name, protocol, route: target.route, statusCode: stream ? 200 : 101, elapsed: target.timer.elapsedTime, log: lines })
    : UNOBSERVED
  registry.track(connection, stream ? closeStream : endConnection, adapter.name, stream, observer)
  // The closures below live as long as the connection: they keep the URL, not the request.
  const url = way.request.url
  const fail = (cause: unknown): void => {
    log.error({ err: new FST_ERR_UPGRADE_HANDLER(adapter.name, url, { cause }) }, 'fastify-upgrade: handler failed')
    if (stream) (connection as ServerHttp2Stream).close(constants.NGHTTP2_INTERNAL_ERROR)
    else connection.destroy()
  }
  const life: Lifecycle = {
    connection,
    onServerClose (close) { registry.track(connection, close, adapter.name, stream) },
    reportClose: report,
    fail
  }
  try {
    const result = target.run(life)
    if (result !== undefined) result.catch(fail)
  } catch (error) {
    fail(error)
  }
}

/**
 * The one accept path, for a route's upgrade, `OPTIONS *` and an extended CONNECT alike: within
 * `maxConnections` (S5), once the whole request is in (U8), the success answer, then the adapter
 * runs on the connection, which is tracked until it closes.
 */
export function accept (upgrader: Upgrader, way: Way, target: Target): void {
  const { registry, settings } = upgrader
  if (registry.upgraded >= settings.maxConnections) {
    // S9: the client is asked to come back later, and this connection closes after the answer.
    deny(way, new FST_ERR_UPGRADE_TOO_MANY(), { 'retry-after': RETRY_AFTER }, true)
    return
  }
  way.ready(settings.maxBodySize, (error) => {
    if (error === undefined) start(upgrader, way, target)
    else deny(way, error as FastifyError)
  })
}
