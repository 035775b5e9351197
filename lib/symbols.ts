/** The exchange of a request that arrived on Node's upgrade path, on its `request.raw`. */
export const kExchange = Symbol('fastify-upgrade.exchange')
/** The parsed `Upgrade` offers of a request Node flagged as an upgrade, on Node's request. */
export const kOffers = Symbol('fastify-upgrade.offers')
/** Marks a server the plugin already listens on; shared with another copy of the package in the process. */
export const kRegistered = Symbol.for('fastify-upgrade.registered')
/** The extended CONNECT (RFC 8441) a request presented to Fastify as GET carries, on its `request.raw`. */
export const kConnect = Symbol('fastify-upgrade.connect')
