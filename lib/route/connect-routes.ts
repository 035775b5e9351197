import type { FastifyInstance } from 'fastify'
import FindMyWay from 'find-my-way'

// find-my-way needs a handler; only the store of a match is ever read.
/* c8 ignore next */
function doNothing (): void {}

/**
 * Which GET route an extended CONNECT's path reaches, and the `:protocol`s (lower case) it takes
 * there. Every GET route the plugin sees is here, in a router set up as Fastify's own (route
 * constraints aside): a `:path` that Fastify would route to a plain route (`/rooms/list` beside
 * `/rooms/:id`) is never presented to it, since its handler would answer the CONNECT as a GET.
 */
export class ConnectRoutes {
  /** Some route takes an extended CONNECT: the HTTP/2 servers announce it (E1). */
  any = false
  private readonly router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>

  constructor (fastify: FastifyInstance) {
    const config = { ...fastify.initialConfig, ...fastify.initialConfig.routerOptions }
    this.router = FindMyWay({
      caseSensitive: config.caseSensitive,
      ignoreTrailingSlash: config.ignoreTrailingSlash,
      ignoreDuplicateSlashes: config.ignoreDuplicateSlashes,
      maxParamLength: config.maxParamLength,
      allowUnsafeRegex: config.allowUnsafeRegex,
      // Known to find-my-way 9, not to its types.
      useSemicolonDelimiter: config.useSemicolonDelimiter
    } as FindMyWay.Config<FindMyWay.HTTPVersion.V1>)
  }

  /**
   * A GET route at `url`, taking the `:protocol`s given (none for a route without `upgrade`).
   * Routes of one shape (`/users/:id` and `/users/:name`, told apart by their constraints) share
   * one entry, which takes what any of them takes: the route Fastify picks then decides.
   */
  add (url: string, protocols: Iterable<string>): void {
    let store = this.router.findRoute('GET', url)?.store as Set<string> | undefined
    if (store === undefined) {
      store = new Set()
      this.router.on('GET', url, doNothing, store)
    }
    for (const protocol of protocols) {
      store.add(protocol)
      this.any = true
    }
  }

  /** The `:protocol`s the route `path` reaches takes; `undefined` when it reaches none. */
  find (path: string): ReadonlySet<string> | undefined {
    return (this.router.find('GET', path)?.store as Set<string> | undefined)
  }
}
