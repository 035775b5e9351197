import type { Socket } from 'node:net'
import type { ProtocolAdapter, RawOptions, UpgradeHandler } from '../../types/index'
import { FST_ERR_UPGRADE_OPTIONS } from '../errors'

/** A custom protocol: after the 101 the route's handler owns the socket. */
export function raw (options: RawOptions): ProtocolAdapter<UpgradeHandler<Socket>> {
  if (typeof options?.name !== 'string' || options.name === '' || !Array.isArray(options.tokens)) {
    throw new FST_ERR_UPGRADE_OPTIONS('raw() needs { name, tokens }')
  }
  return {
    name: options.name,
    tokens: [...options.tokens],
    continuation: false,
    async switch (ctx) {
      ctx.switchProtocols()
      await ctx.value.call(ctx.fastify, ctx.socket, ctx.request)
    }
  }
}
