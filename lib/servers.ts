import type { Server } from 'node:http'
import type { FastifyInstance } from 'fastify'

/**
 * The servers Fastify listens on besides `fastify.server`: one per further address of a host
 * name (`localhost`: 127.0.0.1 and ::1). Fastify forwards their `'upgrade'` events to the main
 * server, but their other machinery is their own. Fastify keeps them under a symbol of its own.
 */
export function otherServers (fastify: FastifyInstance): Server[] {
  const servers: Server[] = []
  // An encapsulated instance inherits them from the root instance, which holds them as its own.
  for (let instance: object | null = fastify; instance !== null; instance = Object.getPrototypeOf(instance)) {
    for (const symbol of Object.getOwnPropertySymbols(instance)) {
      if (symbol.description === 'fastify.serverBindings') servers.push(...(instance as Record<symbol, Server[]>)[symbol])
    }
  }
  return servers
}
