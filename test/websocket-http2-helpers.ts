import type { SecureClientSessionOptions } from 'node:http2'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Test } from 'tap'
import fastifyUpgrade from '../lib/index'
import type { FastifyUpgradeOptions, WebSocketOptions } from '../types/index'
import { connectSession } from '../bench/h2-websocket-client'
import { certificate } from './tls-helpers'

/** Where a WebSocket over HTTP/2 can arrive: Fastify's own HTTP/2 servers and h2c sessions. */
export interface Transport {
  name: string
  /** Fastify's server options (`http2`, `https`), which its typings spell per server kind. */
  fastify: () => Record<string, unknown>
  /** Adds h2c to the adapters. */
  h2c: boolean
  scheme: 'http' | 'https'
  client: () => SecureClientSessionOptions
}

const tls = (): SecureClientSessionOptions => ({ ca: certificate().cert, servername: 'localhost' })

export const transports: Transport[] = [
  { name: 'http2: true with https', fastify: () => ({ http2: true, https: certificate() }), h2c: false, scheme: 'https', client: tls },
  { name: 'http2: true with https and allowHTTP1', fastify: () => ({ http2: true, https: { ...certificate(), allowHTTP1: true } }), h2c: false, scheme: 'https', client: tls },
  { name: 'cleartext http2: true', fastify: () => ({ http2: true }), h2c: false, scheme: 'http', client: () => ({}) },
  { name: 'h2c prior knowledge', fastify: () => ({}), h2c: true, scheme: 'http', client: () => ({}) }
]

/** The TLS server and the h2c session: the two the behaviour tests run on. */
export const mainTransports = [transports[0], transports[3]]

export interface Served {
  app: FastifyInstance
  url: string
  connect: () => ReturnType<typeof connectSession>
}

/** An app on `transport` with websocket() (and h2c() where it needs it); `routes` adds routes before it listens. */
export async function serve (
  t: Test,
  transport: Transport,
  routes: (app: FastifyInstance) => void,
  websocketOptions: WebSocketOptions = {},
  options: Partial<FastifyUpgradeOptions> = {},
  fastifyOptions: FastifyServerOptions = {}
): Promise<Served> {
  const app = Fastify({ ...transport.fastify(), ...fastifyOptions } as FastifyServerOptions) as unknown as FastifyInstance
  const { websocket, h2c } = fastifyUpgrade
  await app.register(fastifyUpgrade, { protocols: transport.h2c ? [websocket(websocketOptions), h2c()] : [websocket(websocketOptions)], ...options })
  routes(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const url = `${transport.scheme}://127.0.0.1:${port}`
  const sessions: Array<Awaited<ReturnType<typeof connectSession>>> = []
  t.teardown(async () => {
    for (const session of sessions) session.destroy()
    await app.close()
  })
  return {
    app,
    url,
    connect: async () => {
      const session = await connectSession(url, transport.client())
      sessions.push(session)
      return session
    }
  }
}
