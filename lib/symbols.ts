// Every symbol the plugin puts on objects it does not own. `Symbol.for`: another copy of the
// package in the same process shares the mark, so the two never serve or report the same thing twice.

/** The exchange of a request that arrived on Node's upgrade path, on its `request.raw`. */
export const kExchange = Symbol('fastify-upgrade.exchange')
/** The parsed `Upgrade` offers of a request Node flagged as an upgrade, on Node's request. */
export const kOffers = Symbol('fastify-upgrade.offers')
/** The extended CONNECT (RFC 8441) a request presented to Fastify as GET carries, on its `request.raw`. */
export const kConnect = Symbol('fastify-upgrade.connect')
/** Extended CONNECT streams open on an HTTP/2 session, on the session. */
export const kStreams = Symbol('fastify-upgrade.streams')
/** A connection's first bytes being read (peek.ts), on the connection while that lasts. */
export const kPeek = Symbol('fastify-upgrade.peek')
/** The id of the request a request continues over another protocol (h2c's stream 1), on Node's request. */
export const kRequestId = Symbol('fastify-upgrade.request-id')
/** On a server the plugin already listens on: its adapters, by name. */
export const kRegistered = Symbol.for('fastify-upgrade.registered')
/** Marks a route whose `upgrade` option the plugin compiled. */
export const kCompiled = Symbol.for('fastify-upgrade.compiled')
/** On a route whose `upgrade` names one protocol: its handler as declared, before other plugins' onRoute hooks wrapped it. */
export const kDeclaredHandler = Symbol('fastify-upgrade.declared-handler')
/** Marks a Fastify instance whose routes are watched for an `upgrade` option nobody compiled. */
export const kWatched = Symbol.for('fastify-upgrade.watched')
