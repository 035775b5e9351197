import type { IncomingMessage } from 'node:http'
import type { FastifyInstance, FastifyRequest } from 'fastify'

type Request = FastifyRequest | IncomingMessage

interface LogController {
  isLogDisabled(request: Request): boolean
}

/**
 * Whether Fastify would log a request's own lines, decided as Fastify decides it: by its log
 * controller (`logController`, which the deprecated `disableRequestLogging` also configures),
 * else by `disableRequestLogging`, `true` or a function of the request. Fastify keeps the
 * controller under a symbol of its own, found here once by its description.
 */
export function requestLogging (fastify: FastifyInstance): (request: Request) => boolean {
  for (let owner: object | null = fastify; owner !== null; owner = Object.getPrototypeOf(owner)) {
    const symbol = Object.getOwnPropertySymbols(owner).find((s) => s.description === 'fastify.logController')
    if (symbol !== undefined) {
      const controller = (owner as Record<symbol, LogController>)[symbol]
      return (request) => !controller.isLogDisabled(request)
    }
  }
  /* c8 ignore next 4: Fastify before 5.12 has no log controller */
  const disabled = fastify.initialConfig.disableRequestLogging as boolean | ((request: Request) => boolean) | undefined
  if (typeof disabled === 'function') return (request) => !disabled(request)
  return () => disabled !== true
}
