import type { Socket } from 'node:net'
import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import type { ProtocolAdapter } from '../../types/index'
import type { Offer } from '../kit/lists'
import type { Lifecycle, Target, Way } from '../switch/accept'
import { switchedContext } from '../switch/context'
import type { Exchange } from '../switch/exchange'
import type { Upgrader } from '../upgrader'

const EMPTY = Buffer.alloc(0)

/**
 * A route's switch over its HTTP/1.1 exchange: how it reaches the client (`Way`) and what it
 * switches to (`Target`), in one object per handshake rather than a closure per step. Nothing
 * keeps it once the adapter runs: it holds the request and the reply.
 */
export class RouteSwitch implements Way, Target {
  readonly stream = false

  constructor (
    private readonly upgrader: Upgrader,
    private readonly exchange: Exchange,
    /** The 101, built before the switch. */
    private readonly head: string,
    readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
    readonly adapter: ProtocolAdapter,
    private readonly offer: Offer,
    private readonly value: unknown,
    /** The route's URL as declared: what Fastify's `request.routeOptions.url` says, without the object that getter builds. */
    readonly route: string
  ) {}

  get protocol (): string {
    return this.offer.token
  }

  get log (): FastifyBaseLogger {
    return this.request.log
  }

  get timer (): FastifyReply {
    return this.reply
  }

  refuse (error: FastifyError, headers: Record<string, string> = {}, close = false): void {
    if (close) this.reply.header('connection', 'close')
    this.reply.headers(headers).send(error)
  }

  ready (limit: number, done: (error?: Error) => void): void {
    this.exchange.ready(limit, done)
  }

  open (): Socket | undefined {
    // The reply is Fastify's no more once the 101 goes out.
    this.reply.hijack()
    return this.exchange.open(this.head)
  }

  run (life: Lifecycle): void | Promise<void> {
    const { adapter, offer, request, value } = this
    return adapter.switch(Object.assign(switchedContext(this.upgrader, life, offer.token), {
      request,
      value,
      body: adapter.route?.body === true ? this.exchange.body.rawBody() : EMPTY
    }))
  }
}
