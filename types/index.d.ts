/// <reference types="node" />
import type { EventEmitter } from 'node:events'
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http'
import type { ServerHttp2Stream } from 'node:http2'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { SecureContextOptions } from 'node:tls'
import type { ClientOptions, PerMessageDeflateOptions, WebSocket } from 'ws'
// The form @fastify/websocket names ws's types in, for declarations both packages make.
import type * as WS from 'ws'
import type {
  ContextConfigDefault,
  FastifyBaseLogger,
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  FastifySchema,
  FastifyTypeProvider,
  FastifyTypeProviderDefault,
  InjectWSOption,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerBase,
  RawServerDefault,
  RouteGenericInterface
} from 'fastify'

declare module 'fastify' {
  interface RouteShorthandOptions<
    RawServer extends RawServerBase = RawServerDefault,
    RawRequest extends RawRequestDefaultExpression<RawServer> = RawRequestDefaultExpression<RawServer>,
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- a merged declaration repeats every type parameter
    RawReply extends RawReplyDefaultExpression<RawServer> = RawReplyDefaultExpression<RawServer>,
    RouteGeneric extends RouteGenericInterface = RouteGenericInterface,
    ContextConfig = ContextConfigDefault,
    SchemaCompiler extends FastifySchema = FastifySchema,
    TypeProvider extends FastifyTypeProvider = FastifyTypeProviderDefault,
    Logger extends FastifyBaseLogger = FastifyBaseLogger
  > {
    /** The protocols this route switches to through HTTP/1.1 Upgrade. */
    upgrade?: fastifyUpgrade.RouteUpgradeOptions<
      FastifyRequest<RouteGeneric, RawServer, RawRequest, SchemaCompiler, TypeProvider, ContextConfig, Logger>
    >
  }

  /** `injectWS`'s options: ws's client options, @fastify/websocket's `onInit` and `onOpen`, and subprotocols. */
  interface InjectWSOption extends Omit<ClientOptions, 'createConnection'> {
    /** Subprotocols offered in `Sec-WebSocket-Protocol`. */
    protocols?: string | string[]
    /** Called with the WebSocket as soon as it exists, before the handshake. */
    onInit?: (ws: WS.WebSocket) => void
    /** Called with the WebSocket once open, before the promise resolves. */
    onOpen?: (ws: WS.WebSocket) => void
  }

  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- a merged declaration repeats every type parameter
  interface FastifyInstance<RawServer, RawRequest, RawReply, Logger, TypeProvider> {
    /** fastify-upgrade's live state. */
    upgrade: fastifyUpgrade.UpgradeState
    /**
     * Opens a WebSocket to `path` over a connection held in memory (no port), through the real
     * request path: Node's parser, the route's hooks, the adapter. Resolves once open; an answer
     * other than 101 rejects with an `InjectWSError`. Of `upgradeContext` only `headers` is used.
     * Declared as @fastify/websocket declares it, so that both plugins' types load together;
     * defined once the app is ready (`await app.ready()` first).
     */
    injectWS: (path?: string, upgradeContext?: Partial<RawRequest>, options?: InjectWSOption) => Promise<WS>
    /**
     * Sends one request to `path` over a connection held in memory, asking to upgrade to
     * `options.upgrade`: the status and headers, and on a 101 the client's end of the connection,
     * otherwise the body.
     */
    injectUpgrade(path: string, options?: fastifyUpgrade.InjectUpgradeOptions): Promise<fastifyUpgrade.InjectUpgradeResponse>
  }
}

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
    /** Milliseconds an upgrade request may take from its head to the hand-off (default 10000). */
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

  /** What every switched connection's context has, whichever way it came in. */
  export interface SwitchedContext {
    /** The connection, after the 101; bytes the client sent after the request are readable on it. */
    socket: Socket
    /** The `Upgrade` token chosen, as the client sent it. */
    token: string
    /** Milliseconds the adapter's own handshake may take (the plugin's `handshakeTimeout`). */
    handshakeTimeout: number
    /**
     * Gives `socket` (the connection, or a socket layered on it such as a TLSSocket) to a Node
     * server as a new connection, `head` read first. By default that is the HTTP server the
     * connection came from, which then serves HTTP/1.1 on it and, on `fastify.close()`, ends it
     * once idle; pass `server` for another one, such as an http2 server.
     */
    serve(socket: Duplex, options?: ServeOptions): void
    /**
     * Reads the connection until `decide` answers for the bytes so far (`undefined`: more are
     * needed), within `handshakeTimeout`; `done` gets the answer, or `undefined` when the
     * connection ended or the time ran out, and the bytes, which stay unread: put them back with
     * `serve`'s `head`, or `socket.unshift`. A throw from `done` destroys the connection.
     */
    peek<T>(decide: (bytes: Buffer) => T | undefined, done: (answer: T | undefined, bytes: Buffer) => void): void
    /** Replaces how `fastify.close()` closes this connection gracefully (default: `socket.end()`). */
    onServerClose(close: () => void): void
    /**
     * For a protocol that can tell how a connection ended: call it while the connection is open,
     * and call the function it returns once the protocol has ended, with fields that say how
     * (WebSocket: `{ code, reason }`). The close log line and the `fastify-upgrade.close`
     * message carry them as `details`, and wait for them after the socket has closed.
     */
    reportClose(): (details: Record<string, unknown>) => void
  }

  /**
   * What an adapter's `switch` receives, once the plugin has written the 101: the connection is
   * the adapter's. `request.server` is the route's encapsulated instance (call a hand-off handler
   * with it as `this`), `request.log` its logger.
   */
  export interface UpgradeContext<Value = unknown> extends SwitchedContext {
    request: FastifyRequest
    /** The route's value for this adapter: `true` or a handler. */
    value: Value
    /** The request body as received (chunked framing removed) when the adapter's `route.body` is set; empty otherwise. */
    body: Buffer
  }

  /**
   * What `serverWide.switch` receives: an `OPTIONS *` reaches no route, so there is no Fastify
   * request, only Node's, and the instance whose server the connection belongs to.
   */
  export interface ServerWideContext extends SwitchedContext {
    request: IncomingMessage
    fastify: FastifyInstance
    log: FastifyBaseLogger
  }

  /**
   * What `extendedConnect.connect` receives: an HTTP/2 extended CONNECT (RFC 8441) to a route that
   * names the adapter, after the route's hooks ran and the plugin answered `:status 200` with the
   * fields `check` returned. The stream is the connection: ending or resetting it ends this
   * stream only, never the HTTP/2 session.
   */
  export interface StreamContext<Value = unknown> {
    /** The request's HTTP/2 stream, carrying the adapter's protocol both ways. */
    stream: ServerHttp2Stream
    request: FastifyRequest
    /** The `:protocol` the client named, e.g. `websocket`. */
    protocol: string
    /** The route's value for this adapter: `true` or a handler. */
    value: Value
    /** Replaces how `fastify.close()` closes this stream gracefully (default: `stream.close()`, RST_STREAM NO_ERROR). */
    onServerClose(close: () => void): void
    /** As `SwitchedContext.reportClose`. */
    reportClose(): (details: Record<string, unknown>) => void
  }

  export interface ServeOptions {
    /** Bytes the server reads before what the socket delivers. */
    head?: Buffer
    /** The server to give the socket to (default: the HTTP server of the connection). */
    server?: EventEmitter
  }

  /** `fastify.upgrade`: what the plugin holds now. */
  export interface UpgradeState {
    /** Upgraded connections open now, by adapter name, each registered adapter included: `{ websocket: 3, h2c: 1 }`. */
    connections(): Record<string, number>
  }

  /** What `preface.serve` receives: a new connection, its first bytes readable on it. */
  export interface ConnectionContext {
    socket: Socket
    fastify: FastifyInstance
    log: FastifyBaseLogger
    /** Gives `socket` to a Node server as a new connection, `head` read first (default server: the HTTP server it came to). */
    serve(socket: Duplex, options?: ServeOptions): void
    /** How `fastify.close()` closes this connection gracefully (it is destroyed after `closeTimeout`). */
    onServerClose(close: () => void): void
  }

  /**
   * What `check` answers: `false` declines (the request is served as plain HTTP, or the next
   * acceptable protocol is tried); fields go on the 101 (or, for an extended CONNECT, on its 200).
   * `upgrade` among them replaces the chosen token in the 101's Upgrade, for a layer-ascending
   * list such as `TLS/1.2, HTTP/1.1` (U5). Throw an HTTP error to refuse.
   */
  export type CheckResult = false | undefined | void | Record<string, string>

  /** How routes use an adapter. */
  export interface RouteCapability {
    /**
     * What a route's value for this adapter may be, checked at startup: `'handler'` (default: a
     * function, which gets the connection after the switch), `'continuation'` (`true`: the
     * route's own handler answers the request over the new protocol), or a function that says
     * what is wrong with a value (`undefined`: nothing).
     */
    value?: 'handler' | 'continuation' | ((value: unknown) => string | undefined)
    /**
     * Every route switches to it, after the protocols the route names, as if each route named it
     * last; routes without `upgrade` included. Continuation adapters only.
     */
    allRoutes?: boolean
    /** What a 426 lists in `Upgrade` for this adapter, best first (default: `tokens`). */
    advertise?: readonly string[]
    /** The connection already speaks this protocol, which satisfies `required`. */
    isActive?(request: FastifyRequest): boolean
    /** `switch` reads `ctx.body`: the plugin keeps the raw bytes of upgrade request bodies (up to `maxBodySize`). */
    body?: boolean
  }

  /** `OPTIONS *` with Upgrade (RFC 2817 §3.2): the whole connection switches; no route, no hooks. */
  export interface ServerWideCapability {
    /** As `ProtocolAdapter.check`, with Node's request; `false` answers the `OPTIONS *` with 200 over HTTP/1.1. */
    check?(request: IncomingMessage, token: string, fastify: FastifyInstance): CheckResult
    /** Takes the connection after the 101, and answers the `OPTIONS *` itself. */
    switch(ctx: ServerWideContext): void | Promise<void>
  }

  /**
   * RFC 8441: an HTTP/2 extended CONNECT with this `:protocol`, on routes that name the adapter.
   * The plugin announces SETTINGS_ENABLE_CONNECT_PROTOCOL on Fastify's HTTP/2 servers and h2c
   * sessions once some route takes it; `check` runs first, with `token` the `:protocol`.
   */
  export interface ExtendedConnectCapability<Value = unknown> {
    protocol: string
    connect(ctx: StreamContext<Value>): void | Promise<void>
  }

  /**
   * A protocol a connection may speak from its first byte, with no upgrade (HTTP/2 prior
   * knowledge): the first bytes of each new connection on every cleartext HTTP/1 server Fastify
   * listens on are shown to `detect` (`undefined`: too few to tell) until it answers; `serve`
   * takes the connections it claims, all others stay HTTP/1.1.
   */
  export interface PrefaceCapability {
    detect(bytes: Buffer): boolean | undefined
    serve(ctx: ConnectionContext): void
  }

  /**
   * A protocol the plugin can switch to: a name, its tokens, a check before the 101 and a switch
   * after it. The optional capabilities are further ways in, each served by one part of the plugin.
   */
  export interface ProtocolAdapter<Value = unknown> {
    /** Key of a route's `upgrade.protocols`. */
    name: string
    /** The `Upgrade` tokens it answers; names compare case-insensitively, versions exactly. */
    tokens: readonly string[]
    /**
     * After the route's hooks, before the 101: decline, refuse, or add fields to the answer
     * (see `CheckResult`). `value` is the route's value for this adapter. For an extended
     * CONNECT, `token` is its `:protocol` and the request carries `:method` and `:protocol` in
     * its headers; `false` refuses it with 501.
     */
    check?(request: FastifyRequest, reply: FastifyReply, token: string, value: Value): CheckResult
    /** Takes over the connection once the plugin has written the 101. */
    switch(ctx: UpgradeContext<Value>): void | Promise<void>
    /** Called once when the plugin is registered, for adapters that serve beside Fastify's routes. */
    start?(fastify: FastifyInstance): void
    /** Releases what the adapter holds, on `fastify.close()`. */
    close?(): void | Promise<void>
    route?: RouteCapability
    serverWide?: ServerWideCapability
    extendedConnect?: ExtendedConnectCapability<Value>
    preface?: PrefaceCapability
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
  }

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
  }

  /** WebSocket (RFC 6455) on ws: the route's handler receives ws's `WebSocket` after the 101. */
  export function websocket (options?: WebSocketOptions): WebSocketAdapter

  /** `injectWS`'s options (the `InjectWSOption` interface fastify's module holds, shared with @fastify/websocket). */
  export type InjectWSOptions = InjectWSOption

  /** What `injectWS` rejects with when the handshake is answered with another status than 101. */
  export interface InjectWSError extends Error {
    code: 'FST_ERR_UPGRADE_UNEXPECTED_RESPONSE'
    /** The status the app answered, e.g. 401 from a hook. */
    statusCode: number
    headers: IncomingHttpHeaders
    body: string
  }

  export interface InjectUpgradeOptions {
    /** The `Upgrade` header, sent with `Connection: upgrade`; none when absent. */
    upgrade?: string
    /** Default `'GET'`. */
    method?: string
    /** More header fields; they replace the defaults of the same name. */
    headers?: OutgoingHttpHeaders
    /** A request body, sent with its `Content-Length`. */
    body?: string | Buffer
  }

  export interface InjectUpgradeResponse {
    statusCode: number
    headers: IncomingHttpHeaders
    /** On a 101: the client's end of the connection, what the app sent after the 101 readable on it; `null` otherwise. */
    socket: Duplex | null
    /** The body of an answer other than 101, as UTF-8 text; empty on a 101. */
    body: string
    rawPayload: Buffer
  }

  export const fastifyUpgrade: FastifyUpgrade
  export { fastifyUpgrade as default }
}

declare function fastifyUpgrade (...params: Parameters<FastifyUpgrade>): ReturnType<FastifyUpgrade>
export = fastifyUpgrade
