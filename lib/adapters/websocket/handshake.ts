import type { FastifyReply, FastifyRequest } from 'fastify'
import type { WebSocketOptions } from '../../../types/index'
import { FST_ERR_UPGRADE_BAD_REQUEST, FST_ERR_UPGRADE_FORBIDDEN_ORIGIN, FST_ERR_UPGRADE_WEBSOCKET_VERSION, isToken } from '../../kit/index'

// 16 bytes in base64 (RFC 6455 §4.1): 22 characters and the padding.
const KEY = /^[+/0-9A-Za-z]{22}==$/
const NONE: readonly string[] = []

/**
 * The subprotocols of `Sec-WebSocket-Protocol`, in the client's order: a list of distinct tokens.
 * `undefined` when the field is malformed, which ws would refuse after the switch.
 */
export function parseSubprotocols (value: string | undefined): readonly string[] | undefined {
  if (value === undefined) return NONE
  const protocols = value.split(',').map((element) => element.trim())
  // A Set keeps a hostile list of thousands of distinct names linear.
  if (new Set(protocols).size !== protocols.length || !protocols.every((protocol) => isToken(protocol, 0, protocol.length))) return undefined
  return protocols
}

function originAllowed (allowed: NonNullable<WebSocketOptions['allowedOrigins']>, origin: string, request: FastifyRequest): boolean {
  return typeof allowed === 'function' ? allowed(origin, request) === true : allowed.includes(origin)
}

/**
 * Refuses, before any switch, what RFC 6455 §4.2.1 (and RFC 8441 §5 over HTTP/2) does not allow (W1: 400; W2: 426 naming the
 * version) and browsers from origins not allowed (W4: 403). Runs in the route handler, after the hooks.
 */
export function checkHandshake (request: FastifyRequest, reply: FastifyReply, allowedOrigins: WebSocketOptions['allowedOrigins']): void {
  const { headers } = request
  if (request.method !== 'GET') throw new FST_ERR_UPGRADE_BAD_REQUEST('A WebSocket handshake is a GET request')
  // An extended CONNECT (RFC 8441 §5, marked by `:protocol`) has no key: HTTP/2 needs no proof that the server understood.
  const key = headers['sec-websocket-key']
  if (headers[':protocol'] === undefined && (typeof key !== 'string' || !KEY.test(key))) {
    throw new FST_ERR_UPGRADE_BAD_REQUEST('Sec-WebSocket-Key must be 16 bytes in base64')
  }
  const version = headers['sec-websocket-version']
  if (version === undefined) throw new FST_ERR_UPGRADE_BAD_REQUEST('Sec-WebSocket-Version is missing')
  if (version !== '13') {
    reply.header('sec-websocket-version', '13')
    throw new FST_ERR_UPGRADE_WEBSOCKET_VERSION()
  }
  const protocol = headers['sec-websocket-protocol']
  if (parseSubprotocols(typeof protocol === 'string' ? protocol : undefined) === undefined) {
    throw new FST_ERR_UPGRADE_BAD_REQUEST('Sec-WebSocket-Protocol must be a list of distinct tokens')
  }
  const origin = headers.origin
  if (allowedOrigins !== undefined && origin !== undefined && !originAllowed(allowedOrigins, origin, request)) {
    throw new FST_ERR_UPGRADE_FORBIDDEN_ORIGIN(origin)
  }
}

/**
 * The subprotocol to answer (W3): one the client offered and the route declares, never ws's
 * default of echoing the client's first offer.
 */
export function selectSubprotocol (request: FastifyRequest, declared: readonly string[], handleProtocols: WebSocketOptions['handleProtocols']): string | false {
  const offered = request.headers['sec-websocket-protocol'] as string | undefined
  // Most handshakes offer none.
  if (offered === undefined) return false
  const acceptable = (parseSubprotocols(offered) as string[]).filter((protocol) => declared.includes(protocol))
  if (acceptable.length === 0) return false
  if (handleProtocols === undefined) return acceptable[0]
  const chosen = handleProtocols(acceptable, request)
  return typeof chosen === 'string' && acceptable.includes(chosen) ? chosen : false
}
