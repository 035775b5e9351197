import { existsSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import t, { test, type Test } from 'tap'
import { chromium, type Browser, type Page } from 'playwright-core'
import { logs } from './helpers'

const CHROMIUM = '/usr/bin/chromium'
// Chromium takes a few seconds to start alone (about 10 s for this file), several times that on a
// loaded machine: tap's 30 s default cut this file off on a busy 2-core machine.
t.setTimeout(120000)
const skip = !existsSync(CHROMIUM) && process.env.CI === undefined ? `${CHROMIUM} is not installed` : false

interface ShowcaseOptions { logger: boolean | object, secure?: boolean }
type BuildShowcase = (options: ShowcaseOptions) => Promise<FastifyInstance>

// The showcase runs the built package, as `npm start` does (and the other showcase tests do):
// `npm test` builds it before tap runs. Building it again here took seconds of this file's time.
function showcase (): BuildShowcase {
  return (require('../examples/showcase.js') as { buildShowcase: BuildShowcase }).buildShowcase
}

// One browser for the file: starting Chromium is most of this file's time. Each test has a
// context of its own (its own connections, closed with it) and a page in it. The browser closes
// when the file's tests are done (registered before they run, so that it is the file's end).
let browser: Promise<Browser> | undefined
t.teardown(async () => { await (await browser)?.close() })
async function open (t: Test, url: string): Promise<Page> {
  browser ??= chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync']
  })
  // The HTTPS copy's certificate is self-signed.
  const context = await (await browser).newContext({ ignoreHTTPSErrors: true })
  t.teardown(() => context.close())
  const page = await context.newPage()
  await page.goto(url)
  return page
}

async function chat (t: Test, page: Page): Promise<void> {
  await page.locator('#log', { hasText: 'connected' }).waitFor()
  await page.fill('#message', 'hello from chromium')
  await page.click('#chat button')
  await page.locator('#log', { hasText: 'echo: hello from chromium' }).waitFor()
  t.match(await page.textContent('#log'), /connected\necho: hello from chromium\n/)
}

test('a browser chats with the showcase over /chat', { skip }, async (t) => {
  const app = await showcase()({ logger: false })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  await chat(t, await open(t, `http://127.0.0.1:${port}/`))
})

test('E2: over the showcase\'s HTTPS/2 copy, the chat\'s WebSocket is a stream of the page\'s own HTTP/2 connection', { skip }, async (t) => {
  const { stream, lines } = logs()
  const app = await showcase()({ logger: { stream }, secure: true })
  t.teardown(() => app.close())
  let connections = 0
  app.server.on('secureConnection', () => { connections++ })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const page = await open(t, `https://127.0.0.1:${port}/`)
  t.equal(await page.evaluate('performance.getEntriesByType("navigation")[0].nextHopProtocol'), 'h2', 'the page came over HTTP/2')
  await chat(t, page)
  const joined = lines.find((line) => line.msg === 'chat over HTTP/2.0')
  t.ok(joined !== undefined && Number.isInteger(joined.stream), 'the server logged the chat on an HTTP/2 stream', joined ?? {})
  t.equal(connections, 1, 'one connection carried the page and the WebSocket')
})
