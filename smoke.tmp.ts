import Fastify from 'fastify'
import fastifyUpgrade from './lib/index'
async function main () {
  const app = Fastify({ logger: { level: process.env.LEVEL ?? 'info' } })
  await app.register(fastifyUpgrade, { protocols: [fastifyUpgrade.h2c()] })
  app.get('/news.html', { upgrade: { protocols: { h2c: true } } }, async (req) => `<h1>news</h1> ${req.raw.httpVersion} ${req.host}\n`)
  app.post('/echo', { upgrade: { protocols: { h2c: true } } }, async (req) => req.body)
  await app.listen({ port: 3999, host: '127.0.0.1' })
}
main()
