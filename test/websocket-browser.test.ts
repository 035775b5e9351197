import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { test, type Test } from 'tap'
import { chromium, type Page } from 'playwright-core'
import { logs } from './helpers'

const CHROMIUM = '/usr/bin/chromium'
const skip = !existsSync(CHROMIUM) && process.env.CI === undefined ? `${CHROMIUM} is not installed` : false

interface ShowcaseOptions { logger: boolean | object, secure?: boolean }
type BuildShowcase = (options: ShowcaseOptions) => Promise<FastifyInstance>

// The showcase runs the built package, as `npm start` does: build it from these sources first.
function showcase (): BuildShowcase {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(__dirname, '..', 'tsconfig.build.json')])
  return (require('../examples/showcase.js') as { buildShowcase: BuildShowcase }).buildShowcase
}

async function open (t: Test, url: string): Promise<Page> {
  const profile = mkdtempSync(join(tmpdir(), 'fastify-upgrade-chromium-'))
  t.teardown(() => rmSync(profile, { recursive: true, force: true }))
  // A fresh profile (playwright passes it as --user-data-dir); the HTTPS copy's certificate is self-signed.
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    ignoreHTTPSErrors: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync']
  })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
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
