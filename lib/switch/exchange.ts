import { ServerResponse, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError } from 'fastify'
import { hasConnectionOption, type Offer } from '../kit/lists'
import { closeAfterWrite, closesConnection, handBack, responseOn, rewind, type RequestBody } from '../node/index'
import { destroyConnection, type Observer } from '../registry/registry'
import { kExchange } from '../symbols'
import type { Upgrader } from '../upgrader'
import type { Refuse, Way } from './accept'
import type { Expiring } from './deadlines'
import { writeError } from './respond'

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n'
const REQUEST_TIMEOUT = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'

export type ExchangeRequest = IncomingMessage & { [kExchange]?: Exchange }

function exchangeOf (res: ServerResponse): Exchange {
  return (res.req as ExchangeRequest)[kExchange] as Exchange
}

// The listeners below are shared by every exchange: Node calls them with the response or the
// socket as `this`, and the exchange is found from there; while it runs, the socket's response is its own.
function onFinish (this: ServerResponse): void {
  exchangeOf(this).handBack()
}

// As Node does on its own path: a client that stops sending aborts its request.
function onSocketEnd (this: Socket): void {
  const exchange = exchangeOf(responseOn(this) as ServerResponse)
  exchange.body.abort()
  this.end()
}

function onResume (this: ExchangeRequest): void {
  (this[kExchange] as Exchange).sendContinue()
}

/**
 * One request on Node's upgrade path, from its head until it switches or is served as HTTP/1.1;
 * it owns what it set up on the connection. Fastify sees `request` and answers on `res`.
 */
export class Exchange implements Expiring, Observer {
  readonly res: ServerResponse
  private readonly expectContinue: boolean
  private continued = false
  /** A switch may still happen: the request is for an upgrade route and nothing declined it yet. */
  private switchable: boolean
  // Its place among the handshakes under way (deadlines.ts).
  deadline = 0
  previous: Expiring | undefined = undefined
  next: Expiring | undefined = undefined

  /** The request Fastify sees. */
  readonly request: ExchangeRequest

  /** `offers`: the client's `Upgrade` list, empty when the request cannot switch. */
  constructor (private readonly upgrader: Upgrader, readonly socket: Socket, readonly body: RequestBody, readonly offers: Offer[]) {
    const request = this.request = body.request as ExchangeRequest
    this.switchable = offers.length > 0
    const http11 = request.httpVersionMajor === 1 && request.httpVersionMinor === 1
    this.expectContinue = http11 && request.headers.expect?.toLowerCase() === '100-continue'
    this.res = new ServerResponse(request)
    this.res.shouldKeepAlive = http11 && !hasConnectionOption(request.headers.connection, 'close')
    request[kExchange] = this
    upgrader.deadlines.add(this)
    // The registry's listener tells of the close; a socket Node no longer reads (no body to come)
    // cannot see the client end its side until someone reads it again.
    upgrader.registry.observe(socket, this)
    if (!body.complete) {
      socket.on('end', onSocketEnd)
      if (this.expectContinue) request.once('resume', onResume)
    }
    this.res.assignSocket(socket)
    this.res.on('finish', onFinish)
  }

  /** No switch can happen any more: from now on only the body's arrival is bounded, not the answer. */
  settle (): void {
    this.switchable = false
  }

  /** U7: a client that waits for 100 gets it before the body is read, and before a 101. */
  sendContinue (): void {
    if (!this.expectContinue || this.continued) return
    this.continued = true
    this.socket.write(CONTINUE)
  }

  /**
   * How a switch reaches the client over this exchange where no route is involved (`OPTIONS *`):
   * `head` is the 101, `refuse` how it answers an error.
   */
  way (head: string, refuse: Refuse): Way {
    return {
      request: this.request,
      stream: false,
      refuse,
      ready: (limit, done) => { this.ready(limit, done) },
      open: () => this.open(head)
    }
  }

  /** Calls `done` once the request is whole (U8), or with why it cannot be. */
  ready (limit: number, done: (error?: Error) => void): void {
    this.body.drain(limit, done)
  }

  /** Answers an error where no route (and so no Fastify reply) is involved: `OPTIONS *`. */
  refuse (error: FastifyError, headers: Record<string, string> = {}, close = false): void {
    const { upgrader, request } = this
    writeError(this.res, error, close ? { ...headers, connection: 'close' } : headers, upgrader.requestLog(request, upgrader.fastify.log))
  }

  /**
   * The connection leaves HTTP with the 101 `head`: U7's 100 first if the client waits for it,
   * and the bytes that followed the request back on it (U8), ready for a new reader. `undefined`
   * when the client already left.
   */
  open (head: string): Socket | undefined {
    this.release()
    if (this.socket.destroyed) return undefined
    this.sendContinue()
    rewind(this.socket, this.body.leftover)
    this.socket.write(head)
    return this.socket
  }

  /** The handshake ran out of time (`handshakeTimeout`). */
  expire (): void {
    // An answer under way is let finish; a stalled body or hook is cut off, and once no switch
    // can happen a slow answer is the route's own business.
    if (this.res.headersSent || (!this.switchable && this.body.complete)) return
    this.upgrader.fastify.log.debug({ url: this.request.url }, 'fastify-upgrade: handshake timeout')
    if (this.body.complete) {
      this.socket.destroy()
      return
    }
    // A body that stops arriving gets Node's own answer to a request that takes too long.
    this.socket.write(REQUEST_TIMEOUT)
    closeAfterWrite(this.socket)
  }

  /** The connection closed (the registry's listener says so). */
  closed (): void {
    this.upgrader.deadlines.delete(this)
    this.body.abort()
  }

  /** Ends what the exchange set up on the connection. */
  private release (): void {
    this.upgrader.deadlines.delete(this)
    this.upgrader.registry.observe(this.socket, undefined)
    this.socket.removeListener('end', onSocketEnd)
    this.res.detachSocket(this.socket)
  }

  /** After a declined upgrade was answered, the connection goes on as HTTP/1.1 (U10), or closes as Node would. */
  handBack (): void {
    const { socket, upgrader } = this
    this.release()
    // A body not read to its end cannot be told from the next request: close (RFC 9112 §9.3).
    if (socket.destroyed || closesConnection(this.res) || !this.body.complete) {
      closeAfterWrite(socket)
      return
    }
    // Until it serves a request again, Node does not count the connection as idle: it is ours to close.
    upgrader.registry.track(socket, destroyConnection)
    handBack(socket, this.body.leftover, () => { upgrader.registry.untrack(socket) })
  }
}
