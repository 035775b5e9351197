import { channel } from 'node:diagnostics_channel'
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger, FastifyError, FastifyRequest } from 'fastify'
import type { Offer } from '../kit/lists'

// The message fields are documented in docs/operations.md.
const upgradeChannel = channel('fastify-upgrade.upgrade')
const declineChannel = channel('fastify-upgrade.decline')
const refuseChannel = channel('fastify-upgrade.refuse')
const closeChannel = channel('fastify-upgrade.close')

type Request = FastifyRequest | IncomingMessage

/** An upgrade request is served as plain HTTP: no offered protocol is acceptable, or every adapter declined. */
export function declined (request: Request, offers: Offer[]): void {
  if (declineChannel.hasSubscribers) declineChannel.publish({ request, protocols: offers.map((offer) => offer.token) })
}

/** The plugin or an adapter answers with an HTTP error instead of switching (426, 400, 403, 413, 503). */
export function refused (request: Request, error: FastifyError): void {
  if (refuseChannel.hasSubscribers) refuseChannel.publish({ request, error, statusCode: error.statusCode ?? 500 })
}

export interface Upgraded {
  /** The connection, or the HTTP/2 stream of an extended CONNECT (which counts no bytes). */
  socket: Duplex
  request: Request
  adapter: string
  protocol: string
  route: string
  /** `request.log` when Fastify logs this request's lines, else `undefined`. */
  log: FastifyBaseLogger | undefined
}

/**
 * One upgraded connection, from the switch to its close: the upgrade and close log lines and
 * messages. It outlives the handshake, so it keeps strings and the logger, not the request.
 */
export class UpgradedConnection {
  private readonly start = performance.now()
  private readonly socket: Duplex
  private readonly adapter: string
  private readonly protocol: string
  private readonly route: string
  private readonly log: FastifyBaseLogger | undefined
  /** What the adapter reported, once it did. */
  private details: Record<string, unknown> | undefined
  /** The socket's close, and each adapter report still to come. */
  private waits = 1
  private duration = 0
  private bytesRead: number | undefined = 0
  private bytesWritten: number | undefined = 0

  constructor ({ socket, request, adapter, protocol, route, log }: Upgraded) {
    this.socket = socket
    this.adapter = adapter
    this.protocol = protocol
    this.route = route
    this.log = log
    log?.info({ adapter, protocol, route }, 'connection upgraded')
    if (upgradeChannel.hasSubscribers) upgradeChannel.publish({ request, socket, adapter, protocol, route })
    // 'close' fires once: no `once` wrapper to keep for the life of the connection.
    socket.on('close', () => {
      this.duration = performance.now() - this.start
      // Counted on the connection itself: a TLS layer's counts would leave out its own records.
      this.bytesRead = (socket as Partial<Socket>).bytesRead
      this.bytesWritten = (socket as Partial<Socket>).bytesWritten
      this.settle()
    })
  }

  /** `ctx.reportClose()`: the close is reported once the socket closed and the returned function gave its details. */
  hold (): (details: Record<string, unknown>) => void {
    this.waits++
    let given = false
    return (details) => {
      if (given) return
      given = true
      this.details = { ...this.details, ...details }
      this.settle()
    }
  }

  private settle (): void {
    if (--this.waits > 0) return
    const { log, adapter, protocol, route, duration, bytesRead, bytesWritten, details } = this
    if (log === undefined && !closeChannel.hasSubscribers) return
    const closed = { adapter, protocol, route, duration, bytesRead, bytesWritten, details: details ?? {} }
    log?.info(closed, 'upgraded connection closed')
    if (closeChannel.hasSubscribers) closeChannel.publish({ socket: this.socket, ...closed })
  }
}
