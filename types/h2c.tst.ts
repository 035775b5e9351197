import Fastify from 'fastify'
import { expect } from 'tstyche'
import fastifyUpgrade, { h2c, type ProtocolAdapter } from '..'

expect(h2c()).type.toBe<ProtocolAdapter<true>>()
expect(h2c({ priorKnowledge: false, sessionTimeout: 1000, maxConcurrentStreams: 10, maxHeaderListSize: 8192, allRoutes: true })).type.toBe<ProtocolAdapter<true>>()
expect(h2c).type.not.toBeCallableWith({ allRoutes: 'yes' })
expect(h2c).type.not.toBeCallableWith({ priorKnowledge: 'no' })

const app = Fastify()
app.register(fastifyUpgrade, { protocols: [h2c()] })
app.get('/news.html', { upgrade: { protocols: { h2c: true }, required: true } }, async () => 'news')
expect(app.get).type.not.toBeCallableWith('/x', { upgrade: { protocols: { h2c: () => {} } } }, async () => 'x')
