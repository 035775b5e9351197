import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'

// Real nginx and HAProxy (the Debian packages) in the foreground as the current user, each with
// its configuration in a temp dir and on a free 127.0.0.1 port, stopped when the test ends.

/** A port free on 127.0.0.1 now (the proxies take no port 0). */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function accepting (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true) })
    socket.on('error', () => { resolve(false) })
  })
}

/** A configuration committed in examples/deploy/ with its example ports replaced; each must be there. */
export function committedConfig (file: string, replacements: Array<[string, string]>): string {
  let text = readFileSync(join(__dirname, '..', 'examples', 'deploy', file), 'utf8')
  for (const [from, to] of replacements) {
    if (!text.includes(from)) throw new Error(`examples/deploy/${file} has no ${from}`)
    text = text.split(from).join(to)
  }
  return text
}

/** A temp dir removed when the test ends. */
export function tempDir (t: Test, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `fastify-upgrade-${name}-`))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}

/** Runs a proxy with `files` (name to text) written to a temp dir, until the test ends; answers its port. */
async function proxy (t: Test, file: string, args: (dir: string) => string[], files: (dir: string, port: number) => Record<string, string>): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), `fastify-upgrade-${file}-`))
  const port = await freePort()
  for (const [name, text] of Object.entries(files(dir, port))) writeFileSync(join(dir, name), text)
  const child = spawn(file, args(dir), { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  t.teardown(async () => {
    child.kill()
    await exited
    rmSync(dir, { recursive: true, force: true })
  })
  // The proxy has no ready signal but its port: a proxy that fails exits, with its reason on stderr.
  while (!(await accepting(port))) {
    if (child.exitCode !== null) throw new Error(`${file} exited: ${stderr}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return port
}

/** nginx with `site(port)` in its http context, as a file in /etc/nginx/conf.d/ is. */
export async function nginx (t: Test, site: (port: number) => string): Promise<number> {
  return await proxy(t, 'nginx', (dir) => ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], (dir, port) => ({
    'site.conf': site(port),
    'nginx.conf': `
daemon off;
master_process off;
pid ${dir}/nginx.pid;
events {}
http {
  access_log off;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  include ${dir}/site.conf;
}
`
  }))
}

/** HAProxy with the configuration `config(port)`. */
export async function haproxy (t: Test, config: (port: number) => string): Promise<number> {
  return await proxy(t, 'haproxy', (dir) => ['-db', '-f', join(dir, 'haproxy.cfg')], (_dir, port) => ({ 'haproxy.cfg': config(port) }))
}
