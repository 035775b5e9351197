/** The exchange of a request that arrived on Node's upgrade path, on its `request.raw`. */
export const kExchange = Symbol('fastify-upgrade.exchange')
/** Marks a server the plugin already listens on. */
export const kRegistered = Symbol('fastify-upgrade.registered')
