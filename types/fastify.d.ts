// What fastify-upgrade adds to Fastify's own types: the route option, the shorthand form of a
// route that speaks one protocol, and the instance's members. Loaded by index.d.ts.
import type { ClientOptions } from 'ws'
// The form @fastify/websocket names ws's types in, for declarations both packages make.
import type * as WS from 'ws'
import type {
  ContextConfigDefault,
  FastifyBaseLogger,
  FastifyRequest,
  FastifySchema,
  FastifyTypeProvider,
  FastifyTypeProviderDefault,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerBase,
  RawServerDefault,
  RouteGenericInterface
} from 'fastify'
import type fastifyUpgrade = require('./index')

declare module 'fastify' {
  interface RouteShorthandOptions<
    RawServer extends RawServerBase = RawServerDefault,
    RawRequest extends RawRequestDefaultExpression<RawServer> = RawRequestDefaultExpression<RawServer>,
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- a merged declaration repeats every type parameter
    RawReply extends RawReplyDefaultExpression<RawServer> = RawReplyDefaultExpression<RawServer>,
    RouteGeneric extends RouteGenericInterface = RouteGenericInterface,
    ContextConfig = ContextConfigDefault,
    SchemaCompiler extends FastifySchema = FastifySchema,
    TypeProvider extends FastifyTypeProvider = FastifyTypeProviderDefault,
    Logger extends FastifyBaseLogger = FastifyBaseLogger
  > {
    /**
     * The protocols this route switches to through HTTP/1.1 Upgrade; or the name of a continuation
     * adapter (`'tls'`, `'h2c'`) the route requires.
     */
    upgrade?: fastifyUpgrade.RouteUpgradeOptions<
      FastifyRequest<RouteGeneric, RawServer, RawRequest, SchemaCompiler, TypeProvider, ContextConfig, Logger>
    > | fastifyUpgrade.ContinuationName
  }

  interface RouteShorthandMethod<
    RawServer extends RawServerBase = RawServerDefault,
    RawRequest extends RawRequestDefaultExpression<RawServer> = RawRequestDefaultExpression<RawServer>,
    RawReply extends RawReplyDefaultExpression<RawServer> = RawReplyDefaultExpression<RawServer>,
    TypeProvider extends FastifyTypeProvider = FastifyTypeProviderDefault,
    Logger extends FastifyBaseLogger = FastifyBaseLogger
  > {
    /** `upgrade: '<name>'`: the route speaks only that protocol, and `handler` is its handler; plain HTTP gets 426. */
    <
      RouteGeneric extends RouteGenericInterface = RouteGenericInterface,
      ContextConfig = ContextConfigDefault,
      SchemaCompiler extends FastifySchema = FastifySchema,
      InnerLogger extends Logger = Logger,
      // Last, as Fastify's own come first: `app.get<{ Params }>(…)` names those. A name of its own for
      // WebSocket, so that it is known then too; other names are inferred.
      Name extends fastifyUpgrade.HandOffName = 'websocket'
    >(
      path: string,
      opts: Omit<RouteShorthandOptions<RawServer, RawRequest, RawReply, RouteGeneric, ContextConfig, SchemaCompiler, TypeProvider, InnerLogger>, 'upgrade'> & { upgrade: Name },
      handler: fastifyUpgrade.UpgradeHandler<fastifyUpgrade.UpgradeProtocols[Name],
        FastifyRequest<RouteGeneric, RawServer, RawRequest, SchemaCompiler, TypeProvider, ContextConfig, InnerLogger>>
    ): FastifyInstance<RawServer, RawRequest, RawReply, InnerLogger, TypeProvider>
  }

  /** `injectWS`'s options: ws's client options, @fastify/websocket's `onInit` and `onOpen`, and subprotocols. */
  interface InjectWSOption extends Omit<ClientOptions, 'createConnection'> {
    /** Subprotocols offered in `Sec-WebSocket-Protocol`. */
    protocols?: string | string[]
    /** Called with the WebSocket as soon as it exists, before the handshake. */
    onInit?: (ws: WS.WebSocket) => void
    /** Called with the WebSocket once open, before the promise resolves. */
    onOpen?: (ws: WS.WebSocket) => void
  }

  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- a merged declaration repeats every type parameter
  interface FastifyInstance<RawServer, RawRequest, RawReply, Logger, TypeProvider> {
    /** fastify-upgrade's live state. */
    upgrade: fastifyUpgrade.UpgradeState
    /**
     * Opens a WebSocket to `path` over a connection held in memory (no port), through the real
     * request path: Node's parser, the route's hooks, the adapter. Resolves once open; an answer
     * other than 101 rejects with an `InjectWSError`. Of `upgradeContext` only `headers` is used.
     * Declared as @fastify/websocket declares it, so that both plugins' types load together;
     * calls `ready()` first, as `inject` does.
     */
    injectWS: (path?: string, upgradeContext?: Partial<RawRequest>, options?: InjectWSOption) => Promise<WS>
    /**
     * Sends one request to `path` over a connection held in memory, asking to upgrade to
     * `options.upgrade`: the status and headers, and on a 101 the client's end of the connection,
     * otherwise the body.
     */
    injectUpgrade(path: string, options?: fastifyUpgrade.InjectUpgradeOptions): Promise<fastifyUpgrade.InjectUpgradeResponse>
  }
}
