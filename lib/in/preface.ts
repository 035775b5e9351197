import type { EventEmitter } from 'node:events'
import { Server as HttpServer } from 'node:http'
import type { Socket } from 'node:net'
import type { ConnectionContext } from '../../types/index'
import { guardErrors, rewind, serve, unguardErrors } from '../node/index'
import type { PrefaceAdapter } from '../options'
import { destroyConnection } from '../registry/registry'
import { peek } from '../switch/peek'
import type { Upgrader } from '../upgrader'

/**
 * Connections that speak a protocol from their first byte, with no upgrade (HTTP/2 prior
 * knowledge, RFC 9113 §3.3): on each cleartext HTTP/1 server, Node's `'connection'` listeners now
 * run only for connections whose first bytes no adapter's `preface` claims.
 */
export class Sniffer {
  /** Connections whose first bytes have not told yet what they speak. */
  private readonly sniffing = new Set<Socket>()
  private readonly adapters: PrefaceAdapter[]
  // Bound once: sniffing a connection allocates no closure.
  private readonly decide = (bytes: Buffer): PrefaceAdapter | false | undefined => this.claim(bytes)

  constructor (private readonly upgrader: Upgrader) {
    this.adapters = upgrader.settings.preface
  }

  /** Stands between `server` and its `'connection'` listeners; TLS and HTTP/2 servers see no preface to sniff. */
  attach (server: EventEmitter): void {
    if (this.adapters.length === 0 || !(server instanceof HttpServer)) return
    const listeners = server.listeners('connection') as Array<(socket: Socket) => void>
    server.removeAllListeners('connection')
    const toHttp1 = (socket: Socket): void => {
      for (const listener of listeners) listener.call(server, socket)
    }
    const sniffed = (adapter: PrefaceAdapter | false | undefined, bytes: Buffer, socket: Socket): void => {
      this.sniffing.delete(socket)
      if (adapter === undefined) {
        socket.destroy()
        return
      }
      rewind(socket, bytes)
      if (adapter === false) {
        unguardErrors(socket)
        toHttp1(socket)
        return
      }
      this.serve(server, adapter, socket)
    }
    server.on('connection', (socket: Socket) => {
      // A connection handed back to HTTP/1.1, or one upgraded to TLS (H6), is past its start.
      if (socket.bytesRead > 0 || 'encrypted' in socket) {
        toHttp1(socket)
        return
      }
      // The first bytes are the start of a handshake (the preface), bounded as every other stage is:
      // at the deadline a connection still silent, or still part-way through a preface, is closed.
      guardErrors(socket)
      this.sniffing.add(socket)
      peek(socket, this.upgrader.deadlines, this.decide, sniffed)
    })
  }

  /** Closes the connections still being sniffed: idle as far as HTTP is concerned, as Node's closeIdleConnections() would. */
  close (): void {
    for (const socket of this.sniffing) socket.destroy()
  }

  /** The adapter whose preface the bytes so far are, false when none, `undefined` while too few to tell. */
  private claim (bytes: Buffer): PrefaceAdapter | false | undefined {
    let undecided = false
    for (const adapter of this.adapters) {
      const answer = adapter.preface.detect(bytes)
      if (answer === true) return adapter
      if (answer === undefined) undecided = true
    }
    return undecided ? undefined : false
  }

  private serve (server: HttpServer, adapter: PrefaceAdapter, socket: Socket): void {
    const { fastify, registry, settings, onServe } = this.upgrader
    // S9: a connection that speaks another protocol from its start counts as one upgraded to it.
    if (registry.upgraded >= settings.maxConnections) {
      fastify.log.debug({ remoteAddress: socket.remoteAddress }, `fastify-upgrade: ${adapter.name} connection closed at maxConnections`)
      socket.destroy()
      return
    }
    registry.track(socket, destroyConnection, adapter.name)
    const ctx: ConnectionContext = {
      socket,
      fastify,
      log: fastify.log,
      serve (next, options = {}) {
        const to = options.server ?? server
        onServe(to)
        serve(to, next, options.head)
      },
      onServerClose (close) {
        registry.track(socket, close, adapter.name)
      }
    }
    try {
      adapter.preface.serve(ctx)
    } catch (err) {
      fastify.log.error({ err }, `fastify-upgrade: ${adapter.name} failed to serve a connection`)
      socket.destroy()
    }
  }
}
