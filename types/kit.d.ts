/// <reference types="node" />
import type { IncomingMessage } from 'node:http'
import type { Http2ServerRequest, Http2Session } from 'node:http2'
import type { Duplex } from 'node:stream'
import type { FastifyErrorConstructor } from '@fastify/error'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ServerOptions, WebSocket } from 'ws'
import type { BehindProxy } from './index'

/**
 * `fastify-upgrade/kit`: what the built-in adapters use of the plugin, for adapters of your own.
 * The built-ins import nothing else, so a third-party adapter can do whatever they do.
 */
declare namespace kit {
  // Lists and tokens (RFC 9110 §5.6).

  /** Whether `value` (or its part from `start` to `end`) is an RFC 9110 token. */
  export function isToken (value: string, start?: number, end?: number): boolean
  /** The comparison key of `name["/" version]`: the name in lower case, the version as is (U1); `undefined` when it is not that grammar. */
  export function protocolKey (protocol: string): string | undefined
  export interface Offer {
    /** The protocol as the client sent it. */
    token: string
    /** Its comparison key. */
    key: string
  }
  /** The client's `Upgrade` list, in its order; invalid elements are skipped, and the work is bounded. */
  export function parseUpgrade (value: string | undefined): Offer[]
  /** Whether a `Connection` list names `option` (given in lower case), in any case (U2). */
  export function hasConnectionOption (value: string | undefined, option: string): boolean
  /**
   * Calls `each(name as sent, lower-case name, value)` for the request's fields that go on over
   * the protocol it switches to: not the hop's own, nor those its Connection names, nor those in `also`.
   */
  export function forEachEndToEndField (request: IncomingMessage, also: ReadonlySet<string>, each: (name: string, lower: string, value: string) => void): void

  // Options.

  /** Says what is wrong with an option's value, or `undefined` when nothing is. */
  export type OptionCheck = (value: unknown) => string | undefined
  /** The checks the built-in adapters' options use. */
  export const is: {
    boolean: OptionCheck
    count: OptionCheck
    integer: OptionCheck
    function: OptionCheck
    any: OptionCheck
    oneOf: (...allowed: unknown[]) => OptionCheck
  }
  /**
   * Checks an options object against the options `known` by `where` (e.g. `'mine()'`): an
   * unknown key fails with the closest known one named, a bad value with what it must be.
   */
  export function checkOptions (options: unknown, where: string, known: Record<string, OptionCheck>): void

  // Proxies (S6).

  /**
   * Whether a request reached the server through a proxy that can be seen: it carries `Via`,
   * `Forwarded` or an `X-Forwarded-*` field, or its peer is trusted by the server's `trustProxy`
   * (known from a Fastify request, or pass `fastify` with Node's).
   */
  export function cameThroughProxy (request: FastifyRequest | IncomingMessage, fastify?: FastifyInstance): boolean
  /**
   * For an adapter whose protocol opens a tunnel a proxy cannot see into: a function that says
   * whether to decline a request that came through a proxy (`behindProxy`: `'refuse'`, the
   * default, or `'allow'`), logging a warning once per server when it does.
   */
  export function proxyPolicy (adapter: string, option: BehindProxy | undefined): (request: FastifyRequest | IncomingMessage, fastify: FastifyInstance) => boolean

  // Errors, as the plugin answers them.

  export const FST_ERR_UPGRADE_OPTIONS: FastifyErrorConstructor<{ code: 'FST_ERR_UPGRADE_OPTIONS', statusCode: 500 }>
  export const FST_ERR_UPGRADE_BAD_REQUEST: FastifyErrorConstructor<{ code: 'FST_ERR_UPGRADE_BAD_REQUEST', statusCode: 400 }>
  export const FST_ERR_UPGRADE_FORBIDDEN_ORIGIN: FastifyErrorConstructor<{ code: 'FST_ERR_UPGRADE_FORBIDDEN_ORIGIN', statusCode: 403 }>
  export const FST_ERR_UPGRADE_WEBSOCKET_VERSION: FastifyErrorConstructor<{ code: 'FST_ERR_UPGRADE_WEBSOCKET_VERSION', statusCode: 426 }>
  export const FST_ERR_UPGRADE_HANDLER: FastifyErrorConstructor<{ code: 'FST_ERR_UPGRADE_HANDLER' }>
  export const FST_ERR_UPGRADE_WEBSOCKET_SLOW: FastifyErrorConstructor<{ code: 'FST_ERR_UPGRADE_WEBSOCKET_SLOW' }>

  // Fastify.

  /**
   * For a continuation whose upgrade request is answered anew over the new protocol (h2c's
   * stream 1): call it with Node's request for it, before `fastify.routing(raw, res)`, and Fastify
   * gives it the id of `request`, the upgrade request: both log under one `reqId`.
   */
  export function continueRequest (request: FastifyRequest, raw: IncomingMessage | Http2ServerRequest): void

  // Node and ws, where they need help.

  /**
   * Clears the idle timer of a closed HTTP/2 session, which Node (20 to 26 at least) leaves armed,
   * keeping the session and its socket in memory until it fires. Call it on the session's `'close'`.
   */
  export function clearIdleTimer (session: Http2Session): void

  /** permessage-deflate (RFC 7692) as agreed with one client. */
  export interface Deflate {
    /** The answer's `Sec-WebSocket-Extensions` value. */
    header: string
  }

  /**
   * What the opened WebSockets do with a whole message sent while more than `limit` bytes sent
   * before still wait (`bufferedAmount`): `refuse` is called instead of sending it, with `send`'s
   * callback if it had one. A message larger than `limit` goes out when less is waiting; the
   * fragments of a message sent in parts (`fin: false`) always go.
   */
  export interface SendGuard {
    limit: number
    refuse: (socket: WebSocket, bufferedAmount: number, callback: ((error?: Error) => void) | undefined) => void
  }

  /**
   * Opens server-side ws WebSockets on connections whose handshake the plugin answered: what ws's
   * `handleUpgrade` does after its checks, without ws writing the 101. `options` are ws's server
   * options (`maxPayload`, `perMessageDeflate`, `autoPong`, `skipUTF8Validation` …); `guard`
   * bounds what a client that does not read can hold in memory.
   */
  export class WebSocketOpener {
    constructor (options: ServerOptions, guard?: SendGuard)
    /** What the client's `Sec-WebSocket-Extensions` offer agrees to; throws on an offer that cannot be read. */
    deflate (offer: string | undefined, maxPayload: number): Deflate | undefined
    /** A WebSocket on `socket` (a connection or an HTTP/2 stream), open at once; `head`: its first bytes, already read. */
    open (socket: Duplex, head: Buffer, protocol: string | false, deflate: Deflate | undefined, maxPayload: number): WebSocket
  }
}

export = kit
