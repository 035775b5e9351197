import { channel } from 'node:diagnostics_channel'
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger, FastifyError, FastifyRequest } from 'fastify'
import { parseUpgrade, type Offer } from '../kit/lists'

// The message fields and log lines are documented in docs/operations.md.
const upgradeChannel = channel('fastify-upgrade.upgrade')
const declineChannel = channel('fastify-upgrade.decline')
const refuseChannel = channel('fastify-upgrade.refuse')
const closeChannel = channel('fastify-upgrade.close')

type Request = FastifyRequest | IncomingMessage

/**
 * Why an upgrade request is served as plain HTTP: no protocol it offers is one the route speaks,
 * every adapter whose protocol it offers declined (`check` returned false), or its `Upgrade` does
 * not count (HTTP/1.0, HEAD).
 */
export type DeclineReason = 'unsupported' | 'declined' | 'ignored'

/**
 * `log` when it writes lines of `level`, asked before a line is built; else `undefined`. Fastify
 * without a logger has a null one, with no level; a logger without `isLevelEnabled` is taken at its word.
 */
export function writer (log: FastifyBaseLogger | undefined, level: 'debug' | 'info'): FastifyBaseLogger | undefined {
  const leveled = log as (FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean }) | undefined
  if (leveled === undefined || (leveled.isLevelEnabled === undefined ? leveled.level === undefined : !leveled.isLevelEnabled(level))) return undefined
  return leveled
}

/**
 * An upgrade request is served as plain HTTP (the `offers` Node's upgrade path parsed, or else
 * its `Upgrade` field's): a debug line on `log`, and the `fastify-upgrade.decline` message.
 */
export function declined (request: Request, offers: Offer[] | undefined, reason: DeclineReason, log: FastifyBaseLogger | undefined): void {
  const debug = writer(log, 'debug')
  if (debug === undefined && !declineChannel.hasSubscribers) return
  const protocols = (offers ?? parseUpgrade(request.headers.upgrade)).map((offer) => offer.token)
  debug?.debug({ protocols, reason }, 'upgrade declined')
  if (declineChannel.hasSubscribers) declineChannel.publish({ request, protocols, reason })
}

/** The plugin or an adapter answers with an HTTP error instead of switching (426, 400, 403, 413, 503). */
export function refused (request: Request, error: FastifyError): void {
  if (refuseChannel.hasSubscribers) refuseChannel.publish({ request, error, statusCode: error.statusCode ?? 500 })
}

/**
 * An error answered where Fastify has no request (`OPTIONS *`, an extended CONNECT it never
 * routed), logged as Fastify's default error handler logs one: `info` below 500, else `error`.
 */
export function answeredError (log: FastifyBaseLogger | undefined, statusCode: number, error: FastifyError): void {
  log?.[statusCode < 500 ? 'info' : 'error']({ res: { statusCode }, err: error }, error.message)
}

export interface Upgraded {
  /** The connection, or the HTTP/2 stream of an extended CONNECT (which counts no bytes). */
  socket: Duplex
  request: Request
  adapter: string
  protocol: string
  route: string
  /** The success answer: 101, or 200 on an HTTP/2 stream (RFC 8441). */
  statusCode: number
  /** Milliseconds since the request started, as Fastify counts a reply's `responseTime`. */
  elapsed: number
  /** `request.log` when it writes this request's lines, else `undefined`. */
  log: FastifyBaseLogger | undefined
}

/**
 * One upgraded connection, from the switch to its close: the upgrade and close log lines and
 * messages. It outlives the handshake, so it keeps strings and the logger, not the request; the
 * registry tells it of the close, and adapters report through one function: no closures.
 */
export class UpgradedConnection {
  /** When the request started, on `performance.now()`'s clock, as Fastify's. */
  private readonly start: number
  private readonly socket: Duplex
  private readonly adapter: string
  private readonly protocol: string
  private readonly route: string
  private readonly log: FastifyBaseLogger | undefined
  /** What the adapter reported, once it did. */
  private details: Record<string, unknown> | undefined
  /** Adapter reports still to come. */
  private pending = 0
  private open = true
  private report: ((details: Record<string, unknown>) => void) | undefined = undefined
  private responseTime = 0
  private bytesRead: number | undefined = 0
  private bytesWritten: number | undefined = 0

  constructor ({ socket, adapter, protocol, route, elapsed, log }: Upgraded) {
    this.start = performance.now() - elapsed
    this.socket = socket
    this.adapter = adapter
    this.protocol = protocol
    this.route = route
    this.log = log
  }

  /** The connection closed (the registry's `'close'` listener says so). */
  closed (socket: Duplex): void {
    this.open = false
    this.responseTime = performance.now() - this.start
    // Counted on the connection itself: a TLS layer's counts would leave out its own records.
    this.bytesRead = (socket as Partial<Socket>).bytesRead
    this.bytesWritten = (socket as Partial<Socket>).bytesWritten
    this.settle()
  }

  /**
   * `ctx.reportClose()`: the close is reported once the socket closed and each function returned
   * gave its details. One function for them all, which counts the reports.
   */
  hold (): (details: Record<string, unknown>) => void {
    this.pending++
    this.report ??= reported.bind(this)
    return this.report
  }

  /** @internal An adapter's report. */
  given (details: Record<string, unknown>): void {
    // Once every report is in, a further one changes nothing.
    if (this.pending === 0) return
    this.pending--
    this.details = { ...this.details, ...details }
    this.settle()
  }

  private settle (): void {
    if (this.open || this.pending > 0) return
    // Someone heard of the switch (upgraded()), so the close line or message is wanted.
    const { log, adapter, protocol, route, responseTime, bytesRead, bytesWritten, details } = this
    const closed = { adapter, protocol, route, responseTime, bytesRead, bytesWritten, details: details ?? {} }
    log?.info(closed, 'upgraded connection closed')
    if (closeChannel.hasSubscribers) closeChannel.publish({ socket: this.socket, ...closed })
  }
}

function ignore (): void {}
/** What `upgraded()` gives for a switch nobody hears of: no observer, and reports that go nowhere. */
export const UNOBSERVED = { observer: undefined, report: () => ignore }

/** Whether anyone hears of a switch whose request logs its lines on `log`: else `upgraded()` need not be called. */
export function heard (log: FastifyBaseLogger | undefined): boolean {
  return log !== undefined || upgradeChannel.hasSubscribers || closeChannel.hasSubscribers
}

/**
 * A switch is done: the upgrade line and message, then what follows the connection to its close
 * line and message, if anyone will hear of it (a subscriber that comes later hears of the
 * connections opened after it came). `report`: what an adapter reports its close with.
 */
export function upgraded (upgrade: Upgraded): { observer: UpgradedConnection | undefined, report: () => (details: Record<string, unknown>) => void } {
  const { socket, request, adapter, protocol, route, statusCode, elapsed, log } = upgrade
  // Fastify's `request completed` shape: the answer's status and the time it took.
  log?.info({ res: { statusCode }, responseTime: elapsed, adapter, protocol, route }, 'connection upgraded')
  if (upgradeChannel.hasSubscribers) upgradeChannel.publish({ request, socket, adapter, protocol, route, statusCode, responseTime: elapsed })
  if (log === undefined && !closeChannel.hasSubscribers) return UNOBSERVED
  const observer = new UpgradedConnection(upgrade)
  return { observer, report: () => observer.hold() }
}

function reported (this: UpgradedConnection, details: Record<string, unknown>): void {
  this.given(details)
}
