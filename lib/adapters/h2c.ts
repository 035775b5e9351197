import { Server as HttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer, type Http2Server, type ServerHttp2Session } from 'node:http2'
import type { Socket } from 'node:net'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { H2cOptions, ProtocolAdapter } from '../../types/index'
import { FST_ERR_UPGRADE_OPTIONS } from '../errors'
import { hasConnectionOption, protocolKey } from '../negotiation'
import { unpause } from '../request-path'
import { INITIAL_WINDOW, PREFACE, requestFrames } from './h2c/frames'
import { peek } from './h2c/peek'
import { decodeSettings } from './h2c/settings'
import { clientStart, requestFields, rewrite } from './h2c/upgrade'

const EMPTY = Buffer.alloc(0)

function count (options: H2cOptions, name: 'sessionTimeout' | 'maxConcurrentStreams' | 'maxHeaderListSize', fallback: number): number {
  const value = options[name] ?? fallback
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new FST_ERR_UPGRADE_OPTIONS(`h2c ${name} must be a number ≥ 0, got ${String(value)}`)
  }
  return value
}

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

function destroy (this: Socket): void {
  this.destroy()
}

/**
 * HTTP/2 over cleartext on the HTTP/1.1 port: the upgrade (the request continues on stream 1) and
 * prior knowledge. Node's http2 has no session upgrade, so the adapter rewrites the client's first
 * bytes into what a prior-knowledge session would have sent, and gives the socket to an http2
 * server whose streams all go through Fastify's routing.
 */
export function h2c (options: H2cOptions = {}): ProtocolAdapter<true> {
  const priorKnowledge = options.priorKnowledge ?? true
  if (typeof priorKnowledge !== 'boolean') throw new FST_ERR_UPGRADE_OPTIONS('h2c priorKnowledge must be a boolean')
  const sessionTimeout = count(options, 'sessionTimeout', 72000)
  const settings = {
    maxConcurrentStreams: count(options, 'maxConcurrentStreams', 100),
    maxHeaderListSize: count(options, 'maxHeaderListSize', 65535)
  }
  let server: Http2Server
  /** Connections whose first bytes have not told yet what they speak. */
  const sniffing = new Set<Socket>()

  /** Gives the socket, its first bytes back on it, to the http2 server. */
  function serve (socket: Socket): ServerHttp2Session {
    // Node's HTTP/1 server makes its sockets half-open: HTTP/2 sessions (whose own server does not)
    // never close when the client ends the connection, and each would hold its socket for good.
    socket.allowHalfOpen = false
    let session: ServerHttp2Session | undefined
    server.once('session', (created) => { session = created })
    server.emit('connection', socket)
    const served = session as ServerHttp2Session
    // Fastify's timeouts do not reach these sessions.
    served.setTimeout(sessionTimeout, () => { served.close() })
    return served
  }

  return {
    name: 'h2c',
    tokens: ['h2c', 'HTTP/2', 'HTTP/2.0'],
    continuation: true,
    rawBody: true,
    setup (fastify, hold) {
      server = createServer({ settings }, (req, res) => {
        fastify.routing(req as unknown as IncomingMessage, res as unknown as ServerResponse)
      })
      server.on('sessionError', (error) => { fastify.log.debug({ err: error }, 'fastify-upgrade: h2c session error') })
      const http1 = fastify.server
      // Only a cleartext HTTP/1 server (not https, not Fastify's own http2) can see a prior-knowledge preface.
      if (priorKnowledge && http1 instanceof HttpServer) sniff(fastify, http1, hold)
    },
    check (request, _reply, token) {
      if (upgradeSettings(request, token) === undefined) return false
      // Stream 1's body must fit the window the server has before its SETTINGS are acknowledged;
      // a chunked body has no length to know that by: both stay on HTTP/1.1.
      const { headers } = request
      return headers['transfer-encoding'] === undefined && Number(headers['content-length'] ?? 0) <= INITIAL_WINDOW
    },
    isActive (request) {
      return request.raw.httpVersionMajor === 2
    },
    switch (ctx) {
      const { socket, request } = ctx
      const http2Settings = upgradeSettings(request, ctx.token) as Buffer
      const streamOne = requestFrames(1, requestFields(request.raw), ctx.body)
      ctx.switchProtocols()
      peek(socket, ctx.handshakeTimeout, clientStart(http2Settings.length), (valid, bytes) => {
        if (valid !== true) {
          socket.destroy()
          return
        }
        socket.unshift(rewrite(bytes, http2Settings, streamOne))
        const session = serve(socket)
        ctx.onServerClose(() => { session.close() })
      })
    },
    close () {
      // Idle as far as HTTP is concerned: Node's closeIdleConnections() would have closed them.
      for (const socket of sniffing) socket.destroy()
    }
  }

  /**
   * Prior knowledge (RFC 9113 §3.3): Node's HTTP/1 'connection' listeners now run only for
   * connections that do not start with the preface. Until the first bytes tell, the server's
   * headersTimeout bounds the wait, as it bounds an HTTP/1.1 request head.
   */
  function sniff (fastify: FastifyInstance, http1: HttpServer, hold: (socket: Socket, close: () => void) => void): void {
    const listeners = http1.listeners('connection')
    http1.removeAllListeners('connection')
    const toHttp1 = (socket: Socket): void => {
      for (const listener of listeners) listener.call(http1, socket)
    }
    http1.on('connection', (socket: Socket) => {
      // A connection handed back to HTTP/1.1, or one already upgraded to TLS, is past its start.
      if (socket.bytesRead > 0 || 'encrypted' in socket) {
        toHttp1(socket)
        return
      }
      socket.on('error', destroy)
      sniffing.add(socket)
      peek(socket, http1.headersTimeout, isPreface, (http2, bytes) => {
        sniffing.delete(socket)
        if (http2 === undefined) {
          socket.destroy()
          return
        }
        socket.removeListener('error', destroy)
        socket.unshift(bytes)
        if (!http2) {
          unpause(socket)
          toHttp1(socket)
          return
        }
        const session = serve(socket)
        hold(socket, () => { session.close() })
        fastify.log.debug({ remoteAddress: socket.remoteAddress }, 'fastify-upgrade: h2c prior knowledge')
      })
    })
  }
}
