import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'tap'
import { chromium } from 'playwright-core'

const CHROMIUM = '/usr/bin/chromium'

test('a browser chats with the showcase over /chat', { skip: !existsSync(CHROMIUM) && process.env.CI === undefined ? `${CHROMIUM} is not installed` : false }, async (t) => {
  // The showcase runs the built package, as `npm start` does: build it from these sources first.
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(__dirname, '..', 'tsconfig.build.json')])
  const { buildShowcase } = require('../examples/showcase.js') as { buildShowcase: (options: { logger: boolean }) => Promise<import('fastify').FastifyInstance> }
  const app = await buildShowcase({ logger: false })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as import('node:net').AddressInfo

  const profile = mkdtempSync(join(tmpdir(), 'fastify-upgrade-chromium-'))
  t.teardown(() => rmSync(profile, { recursive: true, force: true }))
  // A fresh profile (playwright passes it as --user-data-dir).
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync']
  })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  await page.goto(`http://127.0.0.1:${port}/`)
  await page.locator('#log', { hasText: 'connected' }).waitFor()
  await page.fill('#message', 'hello from chromium')
  await page.click('#chat button')
  await page.locator('#log', { hasText: 'echo: hello from chromium' }).waitFor()
  t.match(await page.textContent('#log'), /connected\necho: hello from chromium\n/)
})
