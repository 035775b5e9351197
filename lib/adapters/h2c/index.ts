import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer, type Http2Server, type ServerHttp2Session } from 'node:http2'
import type { Socket } from 'node:net'
import type { FastifyRequest } from 'fastify'
import type { ConnectionContext, H2cOptions, ProtocolAdapter } from '../../../types/index'
import { checkOptions, clearIdleTimer, continueRequest, hasConnectionOption, is, protocolKey, proxyPolicy } from '../../kit/index'
import { PREFACE, requestFrames } from './frames'
import { decodeSettings } from './settings'
import { clientStart, requestFields, rewrite } from './upgrade'

const EMPTY = Buffer.alloc(0)
const NO_ERROR = 0

/** How an HTTP/2 session ended, for the close log line. */
type GoAway = { goawayCode: number, goawayFrom: 'client' | 'server' }

/**
 * The SETTINGS payload the request carries in HTTP2-Settings; `undefined` when it cannot switch.
 * `h2c` needs exactly one valid field, named in Connection (H1); the `HTTP/2` aliases may omit it.
 */
function upgradeSettings (request: FastifyRequest, token: string): Buffer | undefined {
  const { rawHeaders } = request.raw
  let value: string | undefined
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() !== 'http2-settings') continue
    if (value !== undefined) return undefined
    value = rawHeaders[i + 1]
  }
  if (protocolKey(token) === 'h2c') {
    if (value === undefined || !hasConnectionOption(request.headers.connection, 'http2-settings')) return undefined
  } else if (value === undefined) {
    return EMPTY
  }
  return decodeSettings(value)
}

/** Whether `bytes` start as the HTTP/2 preface: `undefined` while too few to tell (H5). */
function isPreface (bytes: Buffer): boolean | undefined {
  const n = Math.min(bytes.length, PREFACE.length)
  if (bytes.compare(PREFACE, 0, n, 0, n) !== 0) return false
  return bytes.length < PREFACE.length ? undefined : true
}

/**
 * HTTP/2 over cleartext on the HTTP/1.1 port: the upgrade (the request continues on stream 1) and
 * prior knowledge. Node's http2 has no session upgrade, so the adapter rewrites the client's first
 * bytes into what a prior-knowledge session would have sent, and gives the socket to an http2
 * server whose streams all go through Fastify's routing.
 */
export function h2c (options: H2cOptions = {}): ProtocolAdapter<true> {
  checkOptions(options, 'h2c()', {
    priorKnowledge: is.boolean,
    allRoutes: is.boolean,
    behindProxy: is.any,
    sessionTimeout: is.count,
    maxConcurrentStreams: is.count,
    maxHeaderListSize: is.count
  })
  const { priorKnowledge = true, allRoutes = false, sessionTimeout = 72000 } = options
  const declinesProxied = proxyPolicy('h2c', options.behindProxy)
  const settings = {
    maxConcurrentStreams: options.maxConcurrentStreams ?? 100,
    maxHeaderListSize: options.maxHeaderListSize ?? 65535
  }
  let server: Http2Server
  // Upgraded sessions, until their stream 1 arrives: the upgrade request, answered over HTTP/2 (H3).
  const upgrades = new WeakMap<ServerHttp2Session, FastifyRequest>()

  /** Gives the socket, `head` read first, to the http2 server; `reportClose` gets the first GOAWAY either side sent. */
  function open (ctx: Pick<ConnectionContext, 'serve' | 'onServerClose'>, socket: Socket, head: Buffer, reportClose?: (details: Record<string, unknown>) => void): ServerHttp2Session {
    // Node's HTTP/1 server makes its sockets half-open: HTTP/2 sessions (whose own server does not)
    // never close when the client ends the connection, and each would hold its socket for good.
    socket.allowHalfOpen = false
    let session: ServerHttp2Session | undefined
    const onSession = (created: ServerHttp2Session): void => { session = created }
    server.once('session', onSession)
    ctx.serve(socket, { head, server })
    server.removeListener('session', onSession)
    const served = session as ServerHttp2Session
    // The first GOAWAY says who ended the session and why.
    let goaway: GoAway | undefined
    const record = (goawayCode: number, goawayFrom: GoAway['goawayFrom']): void => { goaway ??= { goawayCode, goawayFrom } }
    const close = (): void => {
      // Node's close() sends GOAWAY with NO_ERROR.
      record(NO_ERROR, 'server')
      served.close()
    }
    // A closed session waits for its open streams, then for the client to close its side: a
    // stalled stream never ends, a client may never close, and on Node 20 a session whose client
    // broke the protocol stops reading and never sees its FIN. The socket is destroyed one more
    // sessionTimeout after the session went idle, or after the server's last byte (its FIN) went out.
    let grace: NodeJS.Timeout | undefined
    const linger = (): void => {
      grace ??= setTimeout(() => { socket.destroy() }, sessionTimeout).unref()
    }
    const idle = (): void => {
      close()
      linger()
    }
    // Fastify's timeouts do not reach these sessions.
    served.setTimeout(sessionTimeout, idle)
    if (sessionTimeout > 0) socket.once('finish', linger)
    served.once('close', () => {
      clearTimeout(grace)
      clearIdleTimer(served)
    })
    ctx.onServerClose(close)
    if (reportClose === undefined) return served
    served.once('goaway', (code: number) => { record(code, 'client') })
    served.once('close', () => { reportClose(goaway ?? {}) })
    return served
  }

  return {
    name: 'h2c',
    tokens: ['h2c', 'HTTP/2', 'HTTP/2.0'],
    route: {
      value: 'continuation',
      allRoutes,
      isActive: (request) => request.raw.httpVersionMajor === 2
    },
    start (fastify) {
      server = createServer({ settings }, (req, res) => {
        // Stream 1 of an upgraded session is the upgrade request itself: one request, one id.
        const upgrade = req.stream.id === 1 ? upgrades.get(req.stream.session as ServerHttp2Session) : undefined
        if (upgrade !== undefined) {
          upgrades.delete(req.stream.session as ServerHttp2Session)
          continueRequest(upgrade, req)
        }
        fastify.routing(req as unknown as IncomingMessage, res as unknown as ServerResponse)
      })
      server.on('sessionError', (error) => { fastify.log.debug({ err: error }, 'fastify-upgrade: h2c session error') })
    },
    check (request, _reply, token) {
      // H6: h2c is cleartext only, never over a connection upgraded to TLS. A request body would
      // go on stream 1 as DATA the client never counted against the server's window: such an
      // upgrade stays on HTTP/1.1, as Apache and Jetty decline it.
      const { headers } = request
      if ('encrypted' in request.raw.socket || headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0) return false
      if (upgradeSettings(request, token) === undefined || declinesProxied(request, request.server)) return false
    },
    preface: priorKnowledge
      ? {
          detect: isPreface,
          serve (ctx) {
            open(ctx, ctx.socket, EMPTY)
            ctx.log.debug({ remoteAddress: ctx.socket.remoteAddress }, 'fastify-upgrade: h2c prior knowledge')
          }
        }
      : undefined,
    switch (ctx) {
      const { socket, request } = ctx
      const http2Settings = upgradeSettings(request, ctx.token) as Buffer
      const streamOne = requestFrames(1, requestFields(request.raw))
      ctx.peek(clientStart(http2Settings.length), (valid, bytes) => {
        if (valid === true) upgrades.set(open(ctx, socket, rewrite(bytes, http2Settings, streamOne), ctx.reportClose()), request)
        else socket.destroy()
      })
    }
  }
}
