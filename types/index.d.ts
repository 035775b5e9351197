/// <reference types="node" />
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { SecureContextOptions } from 'node:tls'
import type { PerMessageDeflateOptions, WebSocket } from 'ws'
import type * as Adapter from './adapter'
import type * as Inject from './inject'
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, InjectWSOption } from 'fastify'
import './fastify'

type FastifyUpgrade = FastifyPluginAsync<fastifyUpgrade.FastifyUpgradeOptions>

declare namespace fastifyUpgrade {
  /**
   * One entry per adapter name usable as a key of a route's `upgrade.protocols`.
   * The entry is `true` for a continuation adapter (the route handler answers the request
   * over the new protocol) or the type of the connection a hand-off handler receives.
   * Merge your own entries for `raw()` or third-party adapters:
   *
   *     declare module 'fastify-upgrade' { interface UpgradeProtocols { echo: Socket } }
   */
  export interface UpgradeProtocols {
    websocket: WebSocket
    /** HTTP/2 over cleartext: the route handler answers the upgraded request on stream 1. */
    h2c: true
  }

  /**
   * Object forms a route value may take besides the handler, by adapter name (the adapter's
   * `route.value` accepts them). Merge entries for third-party adapters the same way.
   */
  export interface UpgradeRouteObjects<Request = FastifyRequest> {
    websocket: WebSocketRoute<Request>
  }

  /** A hand-off handler, run with the route's encapsulated instance as `this`; a returned promise that rejects is logged and its connection destroyed. */
  export type UpgradeHandler<Connection, Request = FastifyRequest> =
    (this: FastifyInstance, connection: Connection, request: Request) => unknown

  /** Adapters whose route value is a handler: with `upgrade: '<name>'`, the route's handler is it. */
  export type HandOffName = { [Name in keyof UpgradeProtocols]: UpgradeProtocols[Name] extends true ? never : Name }[keyof UpgradeProtocols]
  /** Adapters whose route value is `true`: the route's own handler answers over them. */
  export type ContinuationName = Exclude<keyof UpgradeProtocols, HandOffName>

  export type UpgradeRouteValue<Entry, Request = FastifyRequest> =
    Entry extends true ? true : UpgradeHandler<Entry, Request>

  export interface RouteUpgradeOptions<Request = FastifyRequest> {
    /** Adapter name to route value, in server preference order. */
    protocols: {
      [Name in keyof UpgradeProtocols]?: UpgradeRouteValue<UpgradeProtocols[Name], Request> |
        (Name extends keyof UpgradeRouteObjects ? UpgradeRouteObjects<Request>[Name] : never)
    }
    /** Answer 426 Upgrade Required to a request that does not switch to one of `protocols`. */
    required?: boolean
  }

  export interface FastifyUpgradeOptions {
    /** The protocol adapters this server speaks. */
    protocols: ProtocolAdapter[]
    /** Whose order picks among acceptable tokens: the client's `Upgrade` list (default) or the route's `protocols`. */
    preference?: 'client' | 'server'
    /** Bytes of request body an upgrade request may carry (default 65536); beyond it: 413. */
    maxBodySize?: number
    /** Milliseconds an upgrade request may take from its head to the hand-off (default 10000; 0: no limit). */
    handshakeTimeout?: number
    /** Upgraded connections held at once (default Infinity); beyond it: 503 with Retry-After. */
    maxConnections?: number
    /**
     * Protocol streams (RFC 8441 WebSockets) one HTTP/2 connection may hold open at once (default
     * 100); beyond it a new one is refused with REFUSED_STREAM and the connection stays up.
     */
    maxStreamsPerConnection?: number
    /** Milliseconds `fastify.close()` waits for upgraded connections to close before destroying them (default 5000). */
    closeTimeout?: number
  }

  // The adapter contract (types/adapter.d.ts).
  export type SwitchedContext = Adapter.SwitchedContext
  export type UpgradeContext<Value = unknown> = Adapter.UpgradeContext<Value>
  export type ServerWideContext = Adapter.ServerWideContext
  export type StreamContext<Value = unknown> = Adapter.StreamContext<Value>
  export type ServeOptions = Adapter.ServeOptions
  export type ConnectionContext = Adapter.ConnectionContext
  export type CheckResult = Adapter.CheckResult
  export type RouteCapability = Adapter.RouteCapability
  export type ServerWideCapability = Adapter.ServerWideCapability
  export type ExtendedConnectCapability<Value = unknown> = Adapter.ExtendedConnectCapability<Value>
  export type PrefaceCapability = Adapter.PrefaceCapability
  export type ProtocolAdapter<Value = unknown> = Adapter.ProtocolAdapter<Value>

  /** `fastify.upgrade`: what the plugin holds now. */
  export interface UpgradeState {
    /** Upgraded connections open now, by adapter name, each registered adapter included: `{ websocket: 3, h2c: 1 }`. */
    connections(): Record<string, number>
    /**
     * The registered adapter of that name, from any plugin scope (`app.upgrade.adapter('websocket').clients`
     * to broadcast); throws `FST_ERR_UPGRADE_OPTIONS` for a name not registered.
     */
    adapter<Name extends keyof UpgradeAdapters>(name: Name): UpgradeAdapters[Name]
    adapter(name: string): ProtocolAdapter
  }

  /** What `fastify.upgrade.adapter(name)` returns, by name. Merge entries for third-party adapters. */
  export interface UpgradeAdapters {
    websocket: WebSocketAdapter
    h2c: ProtocolAdapter<true>
    tls: ProtocolAdapter<true>
  }

  export interface RawOptions {
    /** Key of a route's `upgrade.protocols`. */
    name: string
    /** The `Upgrade` tokens it answers, e.g. `['echo/1']`. */
    tokens: string[]
  }

  /**
   * What a continuation adapter does with an upgrade that came through a proxy (see
   * `cameThroughProxy`): `'refuse'` (default) serves it as HTTP/1.1 and logs a warning once,
   * `'allow'` switches it, for a proxy that forwards Upgrade for this protocol on purpose.
   */
  export type BehindProxy = 'refuse' | 'allow'

  /**
   * Whether a request reached the server through a proxy that can be seen: it carries `Via`,
   * `Forwarded` or an `X-Forwarded-*` field, or (a Fastify request only) its peer is trusted by
   * Fastify's `trustProxy`. A proxy that adds no field and is not trusted cannot be told apart.
   */
  export function cameThroughProxy (request: FastifyRequest | IncomingMessage): boolean

  export interface TlsOptions extends SecureContextOptions {
    /** An upgrade that came through a proxy: declined (default) or switched. */
    behindProxy?: BehindProxy
    /**
     * Highest TLS version offered (default `'TLSv1.2'`): CUPS clients (GnuTLS) fail on the TLS 1.3
     * session tickets a server sends right after an upgrade.
     */
    maxVersion?: SecureContextOptions['maxVersion']
  }

  export interface UpgradeProtocols {
    /** RFC 2817: the route's handler answers the request over TLS. */
    tls: true
  }

  /**
   * TLS within HTTP/1.1 (RFC 2817): `Upgrade: TLS/1.x` switches the connection to TLS in place;
   * the request is then answered over TLS and the connection serves HTTPS.
   */
  export function tls (options: TlsOptions): ProtocolAdapter<true>

  export interface H2cOptions {
    /** An upgrade that came through a proxy, with any token: declined (default) or switched. Prior knowledge is not an upgrade. */
    behindProxy?: BehindProxy
    /**
     * Upgrade on every route, not only routes with `h2c: true` (default false), as prior knowledge
     * already does. Off by default (S1): a proxy that forwards `Upgrade: h2c` then opens a tunnel
     * to every route past its own access rules; `behindProxy` still applies.
     */
    allRoutes?: boolean
    /** Serve connections that start with the HTTP/2 preface on the same port (RFC 9113 §3.3; default true). */
    priorKnowledge?: boolean
    /** Milliseconds an HTTP/2 session may stay idle before it is closed with GOAWAY (default 72000). */
    sessionTimeout?: number
    /** SETTINGS_MAX_CONCURRENT_STREAMS the server announces (default 100). */
    maxConcurrentStreams?: number
    /** SETTINGS_MAX_HEADER_LIST_SIZE the server announces, in bytes (default 65535). */
    maxHeaderListSize?: number
  }

  /**
   * HTTP/2 over cleartext TCP: `Upgrade: h2c` (with `HTTP2-Settings`, RFC 7540 §3.2) and the
   * aliases `HTTP/2`, `HTTP/2.0`; the request continues on stream 1, every stream is served by
   * the same routes. Opt-in: read the README on h2c smuggling before enabling it behind a proxy.
   */
  export function h2c (options?: H2cOptions): ProtocolAdapter<true>

  /** A custom protocol: the route's handler receives the socket after the 101. */
  export function raw (options: RawOptions): ProtocolAdapter<UpgradeHandler<Socket>>

  export interface WebSocketOptions {
    /** Largest message, in bytes, a client may send (default 1048576; 0: no limit); beyond it ws closes with 1009. */
    maxPayload?: number
    /** Negotiate permessage-deflate (RFC 7692) when the client offers it (default false): ws's options. */
    perMessageDeflate?: boolean | PerMessageDeflateOptions
    /**
     * Browser origins allowed to open a WebSocket (W4): a list of exact `Origin` values or a
     * predicate. Others get 403 before any switch. A request without `Origin` (not a browser) passes.
     */
    allowedOrigins?: readonly string[] | ((origin: string, request: FastifyRequest) => boolean)
    /**
     * Picks the subprotocol among `acceptable`: those the client offered that the route declares,
     * in the client's order (default: the first). Return `false` to speak none.
     */
    handleProtocols?: (acceptable: string[], request: FastifyRequest) => string | false
    /** Answer pings automatically (default true). */
    autoPong?: boolean
    /** Keep the open WebSockets in the adapter's `clients` (default true), as ws's `clientTracking`. */
    clientTracking?: boolean
    /** Skip UTF-8 validation of text messages (default false). */
    skipUTF8Validation?: boolean
    /**
     * Take WebSockets over HTTP/2 too (RFC 8441, default true): an extended CONNECT with
     * `:protocol websocket` to a websocket route, on Fastify's `http2: true` servers and h2c
     * sessions. `request.raw.httpVersion` is then `'2.0'`.
     */
    http2?: boolean
    /** Bytes that may wait for a client (its `bufferedAmount`) when a message is sent to it (default 1048576; 0: no limit). */
    maxBufferedAmount?: number
    /** Instead of sending a message beyond `maxBufferedAmount`: close the client with 1013 (default) or 1008, or `'skip'` it. */
    slowClient?: 'skip' | 1008 | 1013
  }

  /** What the slow-client guard did: messages left out, WebSockets closed. */
  export interface SlowClientCounts { skipped: number, closed: number }

  /** The object form of a `websocket` route value. */
  export interface WebSocketRoute<Request = FastifyRequest> {
    handler: UpgradeHandler<WebSocket, Request>
    /** Subprotocols this route speaks, in `Sec-WebSocket-Protocol` (W3); none is selected otherwise. */
    protocols?: readonly string[]
    /** Overrides the adapter's `maxPayload` for this route. */
    maxPayload?: number
  }

  export interface WebSocketAdapter extends ProtocolAdapter<UpgradeHandler<WebSocket> | WebSocketRoute> {
    /** The open WebSockets of every route, for broadcast (empty with `clientTracking: false`). */
    readonly clients: ReadonlySet<WebSocket>
    /** Live counts of the slow-client guard (`maxBufferedAmount`), since the adapter was made. */
    readonly slowClients: Readonly<SlowClientCounts>
  }

  /** WebSocket (RFC 6455) on ws: the route's handler receives ws's `WebSocket` after the 101. */
  export function websocket (options?: WebSocketOptions): WebSocketAdapter

  /** `injectWS`'s options (the `InjectWSOption` interface fastify's module holds, shared with @fastify/websocket). */
  export type InjectWSOptions = InjectWSOption

  export type InjectWSError = Inject.InjectWSError
  export type InjectUpgradeOptions = Inject.InjectUpgradeOptions
  export type InjectUpgradeResponse = Inject.InjectUpgradeResponse

  export const fastifyUpgrade: FastifyUpgrade
  export { fastifyUpgrade as default }
}

declare function fastifyUpgrade (...params: Parameters<FastifyUpgrade>): ReturnType<FastifyUpgrade>
export = fastifyUpgrade
