import type { IncomingMessage } from 'node:http'
import { createSecureContext, TLSSocket, type SecureContext, type SecureVersion } from 'node:tls'
import type { ProtocolAdapter, TlsOptions, UpgradeContext } from '../../types/index'
import { FST_ERR_UPGRADE_OPTIONS } from '../errors'
import { hasConnectionOption } from '../negotiation'
import { proxyPolicy } from '../proxied'
import { replay } from './tls-replay'

const VERSIONS: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']
const TOKENS = ['TLS/1.0', 'TLS/1.1', 'TLS/1.2', 'TLS/1.3']

// What RFC 2817 §3.2 asks of `OPTIONS *` once the connection is secure: a success, nothing more.
const OPTIONS_OK = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'

type Switch = Pick<UpgradeContext, 'socket' | 'token' | 'log' | 'handshakeTimeout' | 'switchProtocols' | 'onServerClose'>

/** Writes the 101, then runs the server side of the TLS handshake on the same socket (T1, T3). */
function secure (ctx: Switch, secureContext: SecureContext, onSecure: (socket: TLSSocket) => void): void {
  // U5: layer-ascending, TLS below the HTTP/1.1 that goes on over it.
  ctx.switchProtocols({}, `${ctx.token}, HTTP/1.1`)
  const socket = new TLSSocket(ctx.socket, { isServer: true, secureContext })
  const fail = (reason: string, err?: Error): void => {
    ctx.log.debug({ err }, `fastify-upgrade: TLS handshake ${reason}`)
    socket.destroy()
  }
  // A handshake under way has nothing to finish gracefully.
  ctx.onServerClose(() => { socket.destroy() })
  const timer = setTimeout(fail, ctx.handshakeTimeout, 'timed out')
  const onError = (err: Error): void => { fail('failed', err) }
  // The TLS socket is half-open like the HTTP connection under it: a client that ends the
  // connection mid-handshake (a reset may show as an end too) would hold it until the timer.
  const onEnd = (): void => { fail('ended by the client') }
  socket.once('error', onError)
  socket.once('end', onEnd)
  socket.once('close', () => { clearTimeout(timer) })
  socket.once('secure', () => {
    clearTimeout(timer)
    // Node's HTTP server adds its own error and end listeners when it gets the connection.
    socket.removeListener('error', onError)
    socket.removeListener('end', onEnd)
    onSecure(socket)
  })
}

/** Whether the request came over TLS: Fastify's `https` servers, or a connection upgraded in place. */
function overTls (request: IncomingMessage): boolean {
  return 'encrypted' in request.socket
}

/** The TLS versions from `minVersion` to `maxVersion`, as indexes into VERSIONS. */
function versionRange (options: TlsOptions): [number, number] {
  const min = VERSIONS.indexOf(options.minVersion ?? 'TLSv1.2')
  const max = VERSIONS.indexOf(options.maxVersion ?? 'TLSv1.2')
  if (min === -1 || max === -1 || min > max) {
    throw new FST_ERR_UPGRADE_OPTIONS(`tls() needs minVersion ≤ maxVersion among ${VERSIONS.join(', ')}`)
  }
  return [min, max]
}

/**
 * TLS within HTTP/1.1 (RFC 2817): after the 101 the connection runs a TLS handshake in place, then
 * Node's HTTP server reads the original request again over TLS, answers it through the same
 * route, and keeps serving HTTPS on that connection.
 */
export function tls (options: TlsOptions): ProtocolAdapter<true> {
  if (options === null || typeof options !== 'object' || (options.pfx === undefined && (options.key === undefined || options.cert === undefined))) {
    throw new FST_ERR_UPGRADE_OPTIONS('tls() needs { key, cert } (or pfx)')
  }
  const [min, max] = versionRange(options)
  const declinesProxied = proxyPolicy('tls', options.behindProxy)
  const secureContext = createSecureContext({ ...options, minVersion: VERSIONS[min], maxVersion: VERSIONS[max] })
  const tokens = TOKENS.slice(min, max + 1)
  return {
    name: 'tls',
    tokens,
    // U9/T4: best first, then the protocol that goes on over TLS, as RFC 2817 §4.2 shows.
    advertise: [...tokens].reverse().concat('HTTP/1.1'),
    continuation: true,
    // The original request is replayed over TLS, body included.
    rawBody: true,
    isActive: (request) => request.protocol === 'https',
    // T6: TLS inside TLS is no upgrade, and each layer would nest the next one's writes in its
    // own: a request on a secure connection (or one a proxy says was secure) is served as it is.
    check: (request) => !overTls(request.raw) && request.protocol !== 'https' && !declinesProxied(request, request.server, request.log),
    // S6: no Fastify request here, so a trusted peer cannot be told: only forwarding fields count.
    checkServerWide: (request, fastify) => !overTls(request) && !declinesProxied(request, fastify, fastify.log),
    switch (ctx) {
      secure(ctx, secureContext, (socket) => {
        ctx.serve(socket, { head: replay(ctx.request.raw, ctx.body) })
      })
    },
    serverWide (ctx) {
      secure(ctx, secureContext, (socket) => {
        if (hasConnectionOption(ctx.request.headers.connection, 'close')) {
          socket.end(OPTIONS_OK)
          return
        }
        socket.write(OPTIONS_OK)
        ctx.serve(socket)
      })
    }
  }
}
