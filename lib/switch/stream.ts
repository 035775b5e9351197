import type { Http2ServerRequest } from 'node:http2'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { FST_ERR_UPGRADE_CONNECT_PROTOCOL } from '../errors'
import type { ConnectAdapter } from '../options'
import { kConnect } from '../symbols'
import type { Upgrader } from '../upgrader'
import { accept, deny, type Refuse } from './accept'
import { connectResponse } from './respond'

/** The extended CONNECT a request carries: the adapter its `:protocol` names. */
export interface ConnectMark {
  adapter: ConnectAdapter
  /** The `:protocol` as the client sent it. */
  protocol: string
  /** Its comparison key. */
  key: string
}

export type ConnectRequest = Http2ServerRequest & { [kConnect]?: ConnectMark }

/** A route's adapter that takes an extended CONNECT, and the route's value for it. */
export interface ConnectTarget {
  adapter: ConnectAdapter
  value: unknown
}

/**
 * Runs in the route handler, after the hooks: unless its `check` refuses, the plugin answers
 * `:status 200` (E2) and the adapter takes the stream, through the one accept path.
 */
export function acceptConnect (upgrader: Upgrader, target: ConnectTarget | undefined, mark: ConnectMark, request: FastifyRequest, reply: FastifyReply): void {
  const { adapter, protocol } = mark
  const refuse: Refuse = (error, headers = {}) => { reply.headers(headers).send(error) }
  let headers
  try {
    const fields = target === undefined ? false : adapter.check?.(request, reply, protocol, target.value)
    if (fields === false) throw new FST_ERR_UPGRADE_CONNECT_PROTOCOL(protocol)
    headers = connectResponse(adapter.name, fields)
  } catch (error) {
    deny({ request, refuse }, error as FastifyError)
    return
  }
  const { value } = target as ConnectTarget
  const stream = (request.raw as unknown as Http2ServerRequest).stream
  accept(upgrader, {
    request,
    stream: true,
    refuse,
    ready: (_limit, done) => { done() },
    open () {
      reply.hijack()
      // The client reset the stream while the hooks ran: there is nobody to serve.
      if (stream.destroyed) return undefined
      stream.respond(headers)
      return stream
    }
  }, {
    adapter,
    protocol,
    route: request.routeOptions.url as string,
    log: request.log,
    timer: reply,
    run: (life) => adapter.extendedConnect.connect({ stream, request, protocol, value, onServerClose: life.onServerClose, reportClose: life.reportClose })
  })
}
