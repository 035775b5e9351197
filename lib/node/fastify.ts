import type { IncomingMessage, Server } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { kRequestId } from '../symbols'

/**
 * Where Fastify keeps a private, found by its symbol's description on the instance or the
 * instances it inherits from (an encapsulated instance inherits them from the root).
 */
function holderOf (fastify: FastifyInstance, description: string): { owner: Record<symbol, unknown>, symbol: symbol } | undefined {
  for (let owner: object | null = fastify; owner !== null; owner = Object.getPrototypeOf(owner)) {
    for (const symbol of Object.getOwnPropertySymbols(owner)) {
      if (symbol.description === description) return { owner: owner as Record<symbol, unknown>, symbol }
    }
  }
  /* c8 ignore next 2: Fastify 5.12 has every private asked for; before it, no log controller */
  return undefined
}

/** One of Fastify's privates (see `holderOf`). */
function privateOf<T> (fastify: FastifyInstance, description: string): T | undefined {
  const holder = holderOf(fastify, description)
  return holder?.owner[holder.symbol] as T | undefined
}

/**
 * The servers Fastify listens on besides `fastify.server`: one per further address of a host
 * name (`localhost`: 127.0.0.1 and ::1). Fastify forwards their `'upgrade'` events to the main
 * server, but their other machinery is their own.
 */
export function otherServers (fastify: FastifyInstance): Server[] {
  return privateOf<Server[]>(fastify, 'fastify.serverBindings') as Server[]
}

type Request = FastifyRequest | IncomingMessage

/**
 * Whether Fastify would log a request's own lines, decided as Fastify decides it: by its log
 * controller (which the deprecated `disableRequestLogging` also configures), else by
 * `disableRequestLogging`, `true` or a function of the request.
 */
export function requestLogging (fastify: FastifyInstance): (request: Request) => boolean {
  const controller = privateOf<{ isLogDisabled: (request: Request) => boolean }>(fastify, 'fastify.logController')
  if (controller !== undefined) return (request) => !controller.isLogDisabled(request)
  /* c8 ignore start: Fastify before 5.12 has no log controller */
  const disabled = fastify.initialConfig.disableRequestLogging as boolean | ((request: Request) => boolean) | undefined
  if (typeof disabled === 'function') return (request) => !disabled(request)
  return () => disabled !== true
}
/* c8 ignore stop */

/**
 * Whether the server's `trustProxy` trusts the peer of `socket`. Fastify keeps the trust function
 * in a closure behind its request class's `ips` getter: asked about a request whose
 * X-Forwarded-For names one more hop, it includes that hop only when it trusts the peer.
 */
export function trustsPeer (fastify: FastifyInstance, socket: Socket): boolean {
  let prototype = requestPrototypes.get(fastify)
  if (prototype === undefined) {
    prototype = (privateOf<{ prototype: object }>(fastify, 'fastify.Request') as { prototype: object }).prototype
    requestPrototypes.set(fastify, prototype)
  }
  const ips = Reflect.get(prototype, 'ips', { raw: { headers: { 'x-forwarded-for': '0.0.0.0' }, socket } }) as string[] | undefined
  return ips !== undefined && ips.length > 1
}

/** Each instance's request prototype, found once. */
const requestPrototypes = new WeakMap<FastifyInstance, object>()

/**
 * Makes `value` the instance's `name` for good, even against a later `decorate` of that name:
 * Fastify refuses only a name the instance owns, and assigns any other, so the member is an
 * accessor on a prototype of its own beneath the instance, whose setter lets the assignment pass.
 */
export function claimMember (fastify: FastifyInstance, name: string, value: unknown): void {
  if (Object.hasOwn(fastify, name)) (fastify as unknown as Record<string, unknown>)[name] = value
  else {
    Object.setPrototypeOf(fastify, Object.create(Object.getPrototypeOf(fastify) as object, {
      [name]: { get: () => value, set () {}, configurable: true }
    }))
  }
}

type Generator = (this: unknown, req: IncomingMessage & { [kRequestId]?: string }) => string

/** Request id generators that answer a request continuing another with that one's id. */
const continuing = new WeakSet<Generator>()

/**
 * `raw` continues `request` over another protocol (h2c's stream 1): Fastify gives it the same id.
 * Fastify asks the id generator of the route's instance, which it may inherit; that generator is
 * wrapped, where it is kept, on the first such request: until then no request pays for the question.
 */
export function continueRequest (request: FastifyRequest, raw: object): void {
  (raw as { [kRequestId]?: string })[kRequestId] = request.id
  const { owner, symbol } = holderOf(request.server, 'fastify.genReqId') as NonNullable<ReturnType<typeof holderOf>>
  const generate = owner[symbol] as Generator
  if (continuing.has(generate)) return
  const continued: Generator = function genReqId (req) {
    return req[kRequestId] ?? generate.call(this, req)
  }
  continuing.add(continued)
  owner[symbol] = continued
}
