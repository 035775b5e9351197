import type { EventEmitter } from 'node:events'
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { Server as TlsServer } from 'node:tls'

const EMPTY = Buffer.alloc(0)

interface HttpServer extends EventEmitter {
  /** Unset on an HTTP/2 server before Node 24, whose HTTP/1.1 connections (allowHTTP1) Node serves with no keep-alive timeout. */
  keepAliveTimeout?: number
  timeout: number
}

type Connection = Socket & {
  /** The server that accepted the connection, set by Node's net and http servers. */
  server?: HttpServer
  /** The response Node is writing on the connection. */
  _httpMessage?: ServerResponse | null
}

function destroyOnError (this: Socket): void {
  this.destroy()
}

/** Node takes its error listener off a connection on the upgrade path: without one, a reset would crash the process. */
export function guardErrors (socket: Socket): void {
  if (socket.listenerCount('error', destroyOnError) === 0) socket.on('error', destroyOnError)
}

/** Takes the guard off once Node's HTTP server has the connection again, with an error listener of its own. */
export function unguardErrors (socket: Socket): void {
  socket.removeListener('error', destroyOnError)
}

/** The HTTP server a connection belongs to (Fastify may listen on several addresses, each its own server). */
export function serverOf (socket: Socket): HttpServer {
  return (socket as Connection).server as HttpServer
}

/**
 * Gives a socket to a Node server as a new connection, with `head` read first. The socket goes
 * back to its initial flow state: a paused socket would not resume for the server's new reader.
 * A TLS server (Fastify's `https`, or `http2` with `allowHTTP1`) serves HTTP on its secure
 * connections: its `'connection'` listener would start a second TLS handshake.
 */
export function serve (server: EventEmitter, socket: Duplex, head: Buffer = EMPTY): void {
  rewind(socket, head)
  server.emit(server instanceof TlsServer ? 'secureConnection' : 'connection', socket)
}

/** Puts bytes back in front of what a socket reads next, in its initial flow state. */
export function rewind (socket: Duplex, head: Buffer): void {
  if (head.length > 0) socket.unshift(head)
  ;(socket as { readableFlowing: boolean | null }).readableFlowing = null
}

/** Closes a connection once what was written to it is sent. */
export function closeAfterWrite (socket: Socket): void {
  socket.destroySoon()
}

/** Node's own verdict, once a response is written, that it closes its connection. */
export function closesConnection (res: ServerResponse): boolean {
  return (res as ServerResponse & { _last: boolean })._last
}

/** The response Node (or the plugin) is writing on the connection, if any. */
export function responseOn (socket: Socket): ServerResponse | null | undefined {
  return (socket as Connection)._httpMessage
}

/**
 * Calls `start` once the responses Node is still writing on the connection (when a request was
 * pipelined behind them) are finished, so that responses stay in order. Node gives the connection
 * to the next response queued behind one as that one finishes, before this hears of it.
 */
export function afterResponseInFlight (socket: Socket, start: () => void): void {
  const inFlight = responseOn(socket)
  if (inFlight != null) inFlight.once('finish', () => { afterResponseInFlight(socket, start) })
  else start()
}

/** Ends an HTTP/1.1 connection the way Node ends idle keep-alive ones: now, or after the response under way. */
export function endWhenIdle (socket: Duplex): void {
  const inFlight = (socket as Duplex & Pick<Connection, '_httpMessage'>)._httpMessage
  if (inFlight == null) socket.end()
  else inFlight.shouldKeepAlive = false
}

/**
 * Hands a connection back to its HTTP server after an upgrade request was answered as HTTP/1.1
 * (U10): what followed the request goes first to a new parser, under the keep-alive idle timeout
 * Node arms after a response. Node counts the connection as idle only once it served a request
 * on it: `firstRequest` runs when the next request starts arriving.
 */
export function handBack (socket: Socket, leftover: Buffer, firstRequest: () => void): void {
  const server = serverOf(socket)
  // Node's own error listener comes back with the new parser, and answers parse errors with 400.
  unguardErrors(socket)
  serve(server, socket, leftover)
  /* c8 ignore next: HTTP/2 servers have a keepAliveTimeout from Node 24 on, none before */
  socket.setTimeout(server.keepAliveTimeout ?? server.timeout)
  socket.prependOnceListener('data', () => {
    firstRequest()
    socket.setTimeout(server.timeout)
  })
}
