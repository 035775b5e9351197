import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'tap'
import { chromium } from 'playwright-core'
import type { FastifyInstance } from 'fastify'
import { listen } from './helpers'

// The showcase's page in a real browser: nothing cut off, nothing failing. The showcase runs the built
// package, as `npm start` does.
const { buildShowcase } = require('../examples/showcase.js') as { buildShowcase: (options: { logger: boolean }) => Promise<FastifyInstance> }

const CHROMIUM = '/usr/bin/chromium'
// Kept for a look after the run (.tap/ is not committed).
const SCREENSHOT = join(__dirname, '..', '.tap', 'showcase-1280x800.png')

test('the showcase\'s page at 1280×800: every block fits, and the console stays clean', { skip: !existsSync(CHROMIUM) && process.env.CI === undefined ? `${CHROMIUM} is not installed` : false }, async (t) => {
  const app = await buildShowcase({ logger: false })
  t.teardown(() => app.close())
  const port = await listen(app)

  const profile = mkdtempSync(join(tmpdir(), 'fastify-upgrade-chromium-'))
  t.teardown(() => rmSync(profile, { recursive: true, force: true }))
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync']
  })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  const problems: string[] = []
  page.on('console', (message) => { if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`) })
  page.on('pageerror', (error) => { problems.push(`page error: ${error.message}`) })
  page.on('requestfailed', (request) => { problems.push(`failed: ${request.url()} ${request.failure()?.errorText}`) })
  page.on('response', (response) => { if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`) })

  await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: 'load' })
  await page.locator('#log', { hasText: 'connected' }).waitFor()

  const blocks = await page.$$eval('pre', (elements) => elements.map((element) => ({
    text: (element.textContent ?? '').slice(0, 60),
    scrollWidth: element.scrollWidth,
    clientWidth: element.clientWidth
  })))
  t.ok(blocks.length >= 9, 'the page has its command blocks')
  for (const block of blocks) t.ok(block.scrollWidth <= block.clientWidth, `fits, without a scrollbar: ${block.text}`, block)
  const width = await page.$eval('html', (element) => ({ scrollWidth: element.scrollWidth, clientWidth: element.clientWidth }))
  t.ok(width.scrollWidth <= width.clientWidth, 'the page does not scroll sideways', width)

  mkdirSync(join(SCREENSHOT, '..'), { recursive: true })
  await page.screenshot({ path: SCREENSHOT })
  const png = readFileSync(SCREENSHOT)
  t.same([png.readUInt32BE(16), png.readUInt32BE(20)], [1280, 800], `a 1280×800 screenshot: ${SCREENSHOT}`)

  t.same(problems, [], 'no console errors or warnings, no failed requests, no 404s')
})
