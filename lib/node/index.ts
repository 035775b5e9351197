// The seam: everything the plugin knows of Node's, Fastify's and ws's internals is behind this
// module, and the rest of the plugin reaches it only from here. What differs between Node lines
// is chosen in here by feature detection (probe.ts), never by version numbers.
export { afterResponseInFlight, closeAfterWrite, closesConnection, endWhenIdle, guardErrors, handBack, responseOn, rewind, serve, serverOf, unguardErrors } from './connection'
export { presentAsGet, takeExtendedConnect, type Http2Listener } from './extended-connect'
export { claimMember, continueRequest, otherServers, requestLogging, trustsPeer } from './fastify'
export { clearIdleTimer, clearIdleTimersOf } from './http2-session'
export { connectInMemory } from './in-memory'
export { ownShouldUpgrade } from './probe'
export { keepOnNodePath, onUpgrade, type OpenBody, type UpgradeListener } from './upgrade-path'
export type { RequestBody } from './upgrade-request'
export { WebSocketOpener, type Deflate, type SendGuard } from './ws'
