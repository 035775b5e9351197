import { spawn, spawnSync } from 'node:child_process'
import { dirname } from 'node:path'
import { test, type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { listen } from './helpers'

// Every command the showcase's page shows, run as the page shows it (with the port the showcase got),
// with the clients a user has. The showcase runs the built package, as `npm start` does.
const { buildShowcase } = require('../examples/showcase.js') as { buildShowcase: (options: { logger: boolean }) => Promise<FastifyInstance> }

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

const NEWS = '<!doctype html><title>news</title><h1>News</h1><p>Served over HTTP/2.0.</p>\n'

// What each command prints, by the name the page gives it; `tool` is the client it needs.
const checks: Record<string, { tool: string, check: (t: Test, run: Run) => void }> = {
  echo: {
    tool: 'node',
    check: (t, { stdout }) => t.equal(stdout, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo/1\r\nConnection: upgrade\r\n\r\nhello, echo\n', 'U7: the 101, then the echo')
  },
  'echo-plain': {
    tool: 'curl',
    check: (t, { stdout }) => t.equal(stdout, 'Send Connection: upgrade and Upgrade: echo/1 to switch this connection to an echo.\n')
  },
  'secret-426': {
    tool: 'curl',
    check: (t, { stdout }) => t.match(stdout, /^HTTP\/1\.1 426 Upgrade Required\r\nupgrade: TLS\/1\.2, HTTP\/1\.1\r\nconnection: upgrade\r\n/, 'T4: 426 naming the upgrade')
  },
  'secret-tls': {
    tool: 'node',
    check: (t, { stdout }) => t.match(stdout,
      /^HTTP\/1\.1 101 Switching Protocols\r\nUpgrade: TLS\/1\.2, HTTP\/1\.1\r\nConnection: upgrade\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*\r\nConnection: close\r\n\r\nThis secret came to 127\.0\.0\.1 over https\.\n$/,
      'T2: the 101, then the answer over TLS, and the end')
  },
  ipptool: {
    tool: 'ipptool',
    check: (t, { stdout }) => {
      t.match(stdout, /Get printer attributes using get-printer-attributes\s+\[PASS\]/, 'T1-T2: CUPS\'s own test passes over the upgraded connection')
      t.match(stdout, /printer-name \(nameWithoutLanguage\) = fastify-upgrade/)
    }
  },
  'h2c-curl': {
    tool: 'curl',
    check: (t, { stdout, stderr }) => {
      t.match(stderr, /< HTTP\/1\.1 101 Switching Protocols\r?\n< Upgrade: h2c\r?\n[^]*< HTTP\/2 200/, 'H1: 101, then HTTP/2')
      t.equal(stdout, NEWS)
    }
  },
  'h2c-nghttp': {
    tool: 'nghttp',
    check: (t, { stdout }) => {
      t.match(stdout, /HTTP Upgrade success/, 'H1: nghttp upgrades')
      t.match(stdout, NEWS)
    }
  },
  'h2c-prior-knowledge': {
    tool: 'curl',
    check: (t, { stdout }) => t.equal(stdout, NEWS, 'H5: prior knowledge on the same port')
  },
  'h2c-seed': {
    tool: 'node',
    check: (t, { stdout }) => t.equal(stdout, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: HTTP/2\r\nConnection: upgrade\r\n\r\n', 'U7: the 101 names the token as sent')
  }
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" }

/** The commands on a page, by name, as a browser shows them. */
function commandsOf (html: string): Map<string, string> {
  const found = new Map<string, string>()
  for (const [, name, text] of html.matchAll(/<pre data-command="([^"]+)">([^]*?)<\/pre>/g)) {
    found.set(name, text.replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity]))
  }
  return found
}

/** Runs a command in a shell, with this Node first on PATH. */
async function shell (command: string): Promise<Run> {
  const child = spawn('bash', ['-c', command], {
    env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('latin1').on('data', (chunk: string) => { stdout += chunk })
  child.stderr.setEncoding('latin1').on('data', (chunk: string) => { stderr += chunk })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  return { code, stdout, stderr }
}

const missing = (tool: string): boolean => spawnSync(tool, ['--version']).error !== undefined

test('every command on the showcase\'s page works as it is shown, on the port the showcase got', async (t) => {
  const app = await buildShowcase({ logger: false })
  t.teardown(() => app.close())
  const port = await listen(app)
  const html = await (await fetch(`http://127.0.0.1:${port}/`)).text()
  const commands = commandsOf(html)
  t.same([...commands.keys()].sort(), Object.keys(checks).sort(), 'the page shows the commands this test checks')

  for (const [name, command] of commands) {
    const { tool, check } = checks[name]
    const skip = missing(tool) && process.env.CI === undefined ? `${tool} is not installed` : false
    await t.test(name, { skip }, async (t) => {
      t.match(command, `127.0.0.1:${port}`, 'the command names the showcase\'s port')
      const run = await shell(command)
      t.equal(run.code, 0, 'exits with 0', { command, stdout: run.stdout, stderr: run.stderr })
      check(t, run)
    })
  }
})
