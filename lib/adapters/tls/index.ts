import type { IncomingMessage } from 'node:http'
import type { FastifyBaseLogger } from 'fastify'
import { createSecureContext, TLSSocket, type SecureContext, type SecureVersion } from 'node:tls'
import type { ProtocolAdapter, SwitchedContext, TlsOptions } from '../../../types/index'
import { checkOptions, FST_ERR_UPGRADE_OPTIONS, hasConnectionOption, is, proxyPolicy } from '../../kit/index'
import { replay } from './replay'

const VERSIONS: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']
const TOKENS = ['TLS/1.0', 'TLS/1.1', 'TLS/1.2', 'TLS/1.3']
// Node's secure context options (tls.createSecureContext), which tls() passes on.
const SECURE_CONTEXT = ['allowPartialTrustChain', 'ca', 'cert', 'sigalgs', 'ciphers', 'clientCertEngine', 'crl', 'dhparam', 'ecdhCurve',
  'honorCipherOrder', 'key', 'privateKeyEngine', 'privateKeyIdentifier', 'passphrase', 'pfx', 'secureOptions', 'secureProtocol',
  'sessionIdContext', 'ticketKeys', 'sessionTimeout']

// What RFC 2817 §3.2 asks of `OPTIONS *` once the connection is secure: a success, nothing more.
const OPTIONS_OK = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'

/** Runs the server side of the TLS handshake on the switched connection (T1, T3). */
function secure (ctx: SwitchedContext, log: FastifyBaseLogger, secureContext: SecureContext, onSecure: (socket: TLSSocket) => void): void {
  const socket = new TLSSocket(ctx.socket, { isServer: true, secureContext })
  const fail = (reason: string, err?: Error): void => {
    log.debug({ err }, `fastify-upgrade: TLS handshake ${reason}`)
    socket.destroy()
  }
  // A handshake under way has nothing to finish gracefully.
  ctx.onServerClose(() => { socket.destroy() })
  const timer = ctx.handshakeTimeout > 0 ? setTimeout(fail, ctx.handshakeTimeout, 'timed out') : undefined
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

/**
 * TLS within HTTP/1.1 (RFC 2817): after the 101 the connection runs a TLS handshake in place, then
 * Node's HTTP server reads the original request again over TLS, answers it through the same
 * route, and keeps serving HTTPS on that connection.
 */
export function tls (options: TlsOptions): ProtocolAdapter<true> {
  const known = Object.fromEntries(SECURE_CONTEXT.map((name) => [name, is.any]))
  checkOptions(options, 'tls()', { ...known, minVersion: is.oneOf(...VERSIONS), maxVersion: is.oneOf(...VERSIONS), behindProxy: is.any })
  if (options === undefined || (options.pfx === undefined && (options.key === undefined || options.cert === undefined))) {
    throw new FST_ERR_UPGRADE_OPTIONS('tls() needs { key, cert } (or pfx)')
  }
  const { behindProxy, ...contextOptions } = options
  const min = VERSIONS.indexOf(options.minVersion ?? 'TLSv1.2')
  const max = VERSIONS.indexOf(options.maxVersion ?? 'TLSv1.2')
  if (min > max) throw new FST_ERR_UPGRADE_OPTIONS(`tls() needs minVersion ≤ maxVersion, got ${VERSIONS[min]} and ${VERSIONS[max]}`)
  const declinesProxied = proxyPolicy('tls', behindProxy)
  const secureContext = createSecureContext({ ...contextOptions, minVersion: VERSIONS[min], maxVersion: VERSIONS[max] })
  const tokens = TOKENS.slice(min, max + 1)
  // U5: layer-ascending, TLS below the HTTP/1.1 that goes on over it.
  const answer = (token: string): Record<string, string> => ({ upgrade: `${token}, HTTP/1.1` })
  return {
    name: 'tls',
    tokens,
    route: {
      value: 'continuation',
      // U9/T4: best first, then the protocol that goes on over TLS, as RFC 2817 §4.2 shows.
      advertise: [...tokens].reverse().concat('HTTP/1.1'),
      isActive: (request) => request.protocol === 'https',
      // The original request is replayed over TLS, body included.
      body: true
    },
    // T6: TLS inside TLS is no upgrade, and each layer would nest the next one's writes in its
    // own: a request on a secure connection (or one a proxy says was secure) is served as it is.
    check: (request, _reply, token) => !overTls(request.raw) && request.protocol !== 'https' && !declinesProxied(request, request.server) && answer(token),
    switch (ctx) {
      secure(ctx, ctx.request.log, secureContext, (socket) => {
        ctx.serve(socket, { head: replay(ctx.request.raw, ctx.body) })
      })
    },
    serverWide: {
      check: (request, token, fastify) => !overTls(request) && !declinesProxied(request, fastify) && answer(token),
      switch (ctx) {
        secure(ctx, ctx.log, secureContext, (socket) => {
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
}
