import type { EventEmitter } from 'node:events'
import type { IncomingMessage } from 'node:http'
import type { ServerHttp2Stream } from 'node:http2'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

// The adapter contract, re-exported by types/index.d.ts: what a protocol adapter is, and what
// the plugin gives it at each way in.

/** What every switched connection's context has, whichever way it came in. */
export interface SwitchedContext {
  /** The connection, after the 101; bytes the client sent after the request are readable on it. */
  socket: Socket
  /** The `Upgrade` token chosen, as the client sent it. */
  token: string
  /** Milliseconds the adapter's own handshake may take (the plugin's `handshakeTimeout`; 0: no limit). */
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
  /** Fields a 426 carries besides `Upgrade`, saying how to switch to it (WebSocket: `Sec-WebSocket-Version`). */
  advertiseFields?: Readonly<Record<string, string>>
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
