import { once } from 'node:events'
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

const openSockets = new WeakMap<FastifyInstance, Set<Socket>>()

/** The server's sides of the connections that an app made by `build` holds open now. */
export function serverSockets (app: FastifyInstance): Socket[] {
  // Left out once closed, though its 'close' event may still be on its way.
  return [...(openSockets.get(app) ?? [])].filter((socket) => !socket.closed)
}

/** A Fastify app with the plugin registered, closed when the test ends. */
export async function build (t: Test, options: Partial<FastifyUpgradeOptions> = {}, fastifyOptions: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify(fastifyOptions)
  const open = new Set<Socket>()
  app.server.on('connection', (socket: Socket) => {
    open.add(socket)
    socket.once('close', () => open.delete(socket))
  })
  openSockets.set(app, open)
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
    return await this.untilMatch((text) => text.includes(needle), ms)
  }

  /** Waits until what was received satisfies `done` (or the connection closed), up to `ms`. */
  async untilMatch (done: RegExp | ((text: string) => boolean), ms = 5000): Promise<string> {
    const satisfied = typeof done === 'function' ? done : (text: string) => done.test(text)
    const deadline = Date.now() + ms
    while (!satisfied(this.text)) {
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

/**
 * Whether `event` settles within `ms`. The timer goes once it does: a timer left pending would
 * keep the test's process alive for the rest of `ms`.
 */
export async function within (event: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<boolean>((resolve) => { timer = setTimeout(resolve, ms, false) })
  try {
    return await Promise.race([event.then(() => true), late])
  } finally {
    clearTimeout(timer)
  }
}

/** A socket's close, whatever error came before it (`once` would reject on an 'error' event, a reset's ECONNRESET). */
export async function closeOf (socket: Socket): Promise<void> {
  if (socket.closed) return
  await new Promise((resolve) => socket.once('close', resolve))
}

/** The server's side of the next connection `app` accepts: ask before the client connects. */
export async function accepted (app: FastifyInstance): Promise<Socket> {
  const [socket] = await once(app.server, 'connection') as [Socket]
  return socket
}

/**
 * Waits until `condition` holds, checking at each turn of the event loop, up to `ms`: for state
 * that changes with no event of its own to wait for. The test's assertions then say what held.
 */
export async function eventually (condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve))
}

/**
 * Waits until the server's side of a connection (`server`) has read every byte the client `c` has
 * written so far, up to `ms`: the server has seen them, and what `c` writes next is a read of its own.
 * Node counts a read before handing it on.
 */
export async function delivered (c: RawClient, server: Socket, ms = 5000): Promise<void> {
  await eventually(() => server.bytesRead >= c.socket.bytesWritten || server.destroyed, ms)
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

export type Line = Record<string, any>

/** A logger stream that keeps the parsed lines, and can wait for one that `match`es. */
export function logs (): { stream: Writable, lines: Line[], next: (match: (line: Line) => boolean) => Promise<Line> } {
  const lines: Line[] = []
  const waiters: Array<() => void> = []
  const stream = new Writable({
    write (chunk, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()))
      for (const wake of waiters.splice(0)) wake()
      callback()
    }
  })
  async function next (match: (line: Line) => boolean): Promise<Line> {
    for (;;) {
      const found = lines.find(match)
      if (found !== undefined) return found
      await new Promise<void>((resolve) => waiters.push(resolve))
    }
  }
  return { stream, lines, next }
}

/** A GET route at `path` that answers `'slow'` once released: `started` resolves when a request reached it. */
export function slowRoute (app: FastifyInstance, path: string): { started: Promise<void>, release: () => void } {
  let release = (): void => {}
  const started = new Promise<void>((resolve) => {
    app.get(path, async () => {
      resolve()
      await new Promise<void>((resolve) => { release = resolve })
      return 'slow'
    })
  })
  return { started, release: () => { release() } }
}
