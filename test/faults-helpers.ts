import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { closeOf, serverSockets, within } from './helpers'

/** Upgraded connections open now, by adapter, and the sockets the server still holds. */
export interface Holdings {
  connections: Record<string, number>
  sockets: number
}

async function holdings (app: FastifyInstance): Promise<Holdings> {
  const sockets = await new Promise<number>((resolve) => app.server.getConnections((_, count) => resolve(count)))
  return { connections: app.upgrade.connections(), sockets }
}

function empty (state: Holdings): boolean {
  return state.sockets === 0 && Object.values(state.connections).every((count) => count === 0)
}

/**
 * What the server holds once it lets go of every connection, or after `ms`: a server closes its
 * side a moment after the client's close event, so this checks again when one of the server's
 * sockets closes, or at the next turn of the event loop once none is left open.
 */
export async function settled (app: FastifyInstance, ms = 2000): Promise<Holdings> {
  const deadline = Date.now() + ms
  let state = await holdings(app)
  while (!empty(state) && Date.now() < deadline) {
    const open = serverSockets(app)
    if (open.length > 0) await within(Promise.race(open.map(closeOf)), deadline - Date.now())
    else await new Promise((resolve) => setImmediate(resolve))
    state = await holdings(app)
  }
  return state
}

/** `connections()` with every adapter at 0. */
export function none (app: FastifyInstance): Holdings {
  return { connections: Object.fromEntries(Object.keys(app.upgrade.connections()).map((name) => [name, 0])), sockets: 0 }
}

/**
 * Writes `bytes` one at a time, one every `every` ms, until they are all sent or the connection
 * closes; resolves with the ms from the first byte to the connection's close.
 */
export async function dribble (socket: Socket, bytes: Buffer, every: number): Promise<number> {
  const start = Date.now()
  let sent = 0
  const timer = setInterval(() => {
    if (sent < bytes.length && !socket.destroyed) socket.write(bytes.subarray(sent, ++sent))
  }, every)
  socket.write(bytes.subarray(0, ++sent))
  await new Promise((resolve) => socket.once('close', resolve))
  clearInterval(timer)
  return Date.now() - start
}
