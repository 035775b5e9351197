import type { Socket } from 'node:net'
import type { ProtocolAdapter, RawOptions, UpgradeHandler } from '../../../types/index'
import { checkOptions, FST_ERR_UPGRADE_OPTIONS, isToken } from '../../kit/index'

/** A custom protocol: after the 101 the route's handler owns the socket. */
export function raw (options: RawOptions): ProtocolAdapter<UpgradeHandler<Socket>> {
  checkOptions(options, 'raw()', {
    name: (value) => typeof value === 'string' && isToken(value) ? undefined : 'must be a token, the key routes name it by',
    tokens: (value) => Array.isArray(value) ? undefined : 'must be an array of Upgrade tokens'
  })
  if (options?.name === undefined || options.tokens === undefined) throw new FST_ERR_UPGRADE_OPTIONS('raw() needs { name, tokens }')
  return {
    name: options.name,
    tokens: [...options.tokens],
    async switch (ctx) {
      await ctx.value.call(ctx.request.server, ctx.socket, ctx.request)
    }
  }
}
