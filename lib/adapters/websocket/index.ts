import { createHash } from 'node:crypto'
import type { Duplex } from 'node:stream'
import type { FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import type { SlowClientCounts, StreamContext, UpgradeContext, UpgradeHandler, WebSocketAdapter, WebSocketOptions, WebSocketRoute } from '../../../types/index'
import { checkOptions, FST_ERR_UPGRADE_BAD_REQUEST, is, WebSocketOpener, type Deflate } from '../../kit/index'
import { checkHandshake, selectSubprotocol } from './handshake'
import { routeProblem, toRoute } from './route'
import { serve } from './serve'
import { slowClientGuard } from './slow'

// A client message larger than this closes the connection with 1009 unless configured:
// ws's own default (100 MiB) lets one client hold that much memory per message.
const DEFAULT_MAX_PAYLOAD = 1024 * 1024
// Bytes a client may leave unread before the slow-client guard acts (docs/scaling.md says why this much).
const DEFAULT_MAX_BUFFERED = 1024 * 1024
const EMPTY = Buffer.alloc(0)
// RFC 6455 §1.3: what the client's key is hashed with to prove the server speaks WebSocket.
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

/** What one handshake agreed to beyond the defaults, kept from `check` to the switch. */
interface Agreement {
  protocol: string | false
  deflate: Deflate | undefined
}

type Value = UpgradeHandler<WebSocket> | WebSocketRoute

/** WebSocket (RFC 6455) on ws: after the 101 the route's handler owns ws's `WebSocket`. */
export function websocket (options: WebSocketOptions = {}): WebSocketAdapter {
  checkOptions(options, 'websocket()', {
    maxPayload: is.integer,
    perMessageDeflate: (value) => typeof value === 'boolean' || (typeof value === 'object' && value !== null) ? undefined : 'must be a boolean or ws\'s permessage-deflate options',
    allowedOrigins: (value) => typeof value === 'function' || Array.isArray(value) ? undefined : 'must be an array of origins or a function',
    handleProtocols: is.function,
    autoPong: is.boolean,
    clientTracking: is.boolean,
    skipUTF8Validation: is.boolean,
    http2: is.boolean,
    maxBufferedAmount: is.integer,
    slowClient: is.oneOf('skip', 1008, 1013)
  })
  const { allowedOrigins, handleProtocols, maxPayload = DEFAULT_MAX_PAYLOAD } = options
  // Open WebSockets of every route, for broadcast, as ws's `clients`.
  const clients = new Set<WebSocket>()
  const tracked = options.clientTracking === false ? undefined : clients
  const slowClients: SlowClientCounts = { skipped: 0, closed: 0 }
  const opener = new WebSocketOpener({
    maxPayload,
    perMessageDeflate: options.perMessageDeflate ?? false,
    autoPong: options.autoPong ?? true,
    skipUTF8Validation: options.skipUTF8Validation ?? false
  }, slowClientGuard(options.maxBufferedAmount ?? DEFAULT_MAX_BUFFERED, options.slowClient ?? 1013, slowClients))
  // Only handshakes that agreed to a subprotocol or an extension have an entry, gone with their request.
  const agreed = new WeakMap<FastifyRequest, Agreement>()

  /** Attaches a WebSocket to the switched connection (or stream) and runs the route's handler on it. */
  function attach (ctx: Pick<UpgradeContext, 'request' | 'reportClose' | 'onServerClose'>, connection: Duplex, value: Value): void {
    const route = toRoute(value)
    const agreement = agreed.get(ctx.request)
    const socket = opener.open(connection, EMPTY, agreement?.protocol ?? false, agreement?.deflate, route.maxPayload ?? maxPayload)
    serve(ctx, route.handler, socket, tracked)
  }

  return {
    name: 'websocket',
    clients,
    slowClients,
    tokens: ['websocket'],
    // W2: a 426 names the version this server speaks.
    route: { value: routeProblem, advertiseFields: { 'Sec-WebSocket-Version': '13' } },
    /**
     * W1-W4, before any switch: the handshake is checked, and the answer's fields worked out: the
     * key's proof (none over HTTP/2, RFC 8441 §5), the subprotocol (W3) and permessage-deflate.
     */
    check (request, reply, _token, value) {
      checkHandshake(request, reply, allowedOrigins)
      const route = toRoute(value as Value)
      const protocol = selectSubprotocol(request, route.protocols ?? [], handleProtocols)
      let deflate
      try {
        deflate = opener.deflate(request.headers['sec-websocket-extensions'] as string | undefined, route.maxPayload ?? maxPayload)
      } catch {
        throw new FST_ERR_UPGRADE_BAD_REQUEST('Invalid or unacceptable Sec-WebSocket-Extensions header')
      }
      if (protocol !== false || deflate !== undefined) agreed.set(request, { protocol, deflate })
      const fields: Record<string, string> = {}
      const key = request.headers['sec-websocket-key']
      if (typeof key === 'string') {
        fields.Upgrade = 'websocket'
        fields['Sec-WebSocket-Accept'] = createHash('sha1').update(key + GUID).digest('base64')
      }
      if (protocol !== false) fields['Sec-WebSocket-Protocol'] = protocol
      if (deflate !== undefined) fields['Sec-WebSocket-Extensions'] = deflate.header
      return fields
    },
    switch (ctx) {
      attach(ctx, ctx.socket, ctx.value)
    },
    extendedConnect: options.http2 === false
      ? undefined
      : {
          protocol: 'websocket',
          connect (ctx: StreamContext<Value>) {
            attach(ctx, ctx.stream, ctx.value)
          }
        }
  }
}
