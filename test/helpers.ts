import { connect, type Socket } from 'node:net'
import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Test } from 'tap'
import fastifyUpgrade from '../lib/index'
import type { FastifyUpgradeOptions } from '../types/index'

// The test protocols, typed as a user types their own adapters.
declare module '../types/index' {
  interface UpgradeProtocols {
    echo: Socket
    chat: Socket
    secure: true
  }
}

/** A Fastify app with the plugin registered, closed when the test ends. */
export async function build (t: Test, options: Partial<FastifyUpgradeOptions> = {}, fastifyOptions: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify(fastifyOptions)
  await app.register(fastifyUpgrade, { protocols: [fastifyUpgrade.raw({ name: 'echo', tokens: ['echo/1'] })], ...options })
  t.teardown(() => app.close())
  return app
}

/** Listens on 127.0.0.1, port 0, and answers the port. */
export async function listen (app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
  return address.port
}

/** A raw client connection that collects everything the server sends. */
export class RawClient {
  readonly socket: Socket
  received = Buffer.alloc(0)
  private readonly waiters: Array<() => void> = []
  readonly closed: Promise<void>

  constructor (port: number, host = '127.0.0.1') {
    this.socket = connect(port, host)
    this.socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk])
      for (const wake of this.waiters.splice(0)) wake()
    })
    this.socket.on('error', () => {})
    this.closed = new Promise((resolve) => this.socket.on('close', () => {
      for (const wake of this.waiters.splice(0)) wake()
      resolve()
    }))
  }

  get text (): string {
    return this.received.toString('latin1')
  }

  write (data: string | Buffer): this {
    this.socket.write(data)
    return this
  }

  /** Waits until what was received contains `needle` (or the connection closed), up to `ms`. */
  async until (needle: string, ms = 5000): Promise<string> {
    const deadline = Date.now() + ms
    while (!this.text.includes(needle)) {
      if (this.socket.destroyed || this.socket.readableEnded) break
      const left = deadline - Date.now()
      if (left <= 0) break
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
    return this.text
  }

  close (): void {
    this.socket.destroy()
  }
}

/** Opens a raw connection closed when the test ends. */
export function client (t: Test, port: number): RawClient {
  const c = new RawClient(port)
  t.teardown(() => c.close())
  return c
}

/** `GET <path>` asking to upgrade to `upgrade`, with extra header lines. */
export function upgradeRequest (path: string, upgrade: string, extra: string[] = [], method = 'GET'): string {
  return [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: upgrade', `Upgrade: ${upgrade}`, ...extra, '', ''].join('\r\n')
}

/** A logger stream that keeps the parsed lines. */
export function logs (): { stream: Writable, lines: Array<Record<string, any>> } {
  const lines: Array<Record<string, any>> = []
  const stream = new Writable({
    write (chunk, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()))
      callback()
    }
  })
  return { stream, lines }
}
