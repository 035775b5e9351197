import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'

// Real nginx and HAProxy (the Debian packages) in the foreground as the current user, each with
// its configuration in a temp dir and on a 127.0.0.1 port, stopped when the test ends.

/** A port free on 127.0.0.1 now (the proxies take no port 0). */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
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

/**
 * Runs a proxy with `files` (name to text) written to a temp dir, until the test ends; answers its
 * port once the proxy accepts connections on it. `listener`: a socket already listening on `port`
 * that the proxy takes as its fd 3; otherwise `ready` names the file the proxy writes once it listens.
 */
async function proxy (t: Test, file: string, args: (dir: string) => string[], files: (dir: string, port: number) => Record<string, string>,
  start: { listener: Server } | { ready: string }): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), `fastify-upgrade-${file}-`))
  const port = 'listener' in start ? (start.listener.address() as AddressInfo).port : await freePort()
  for (const [name, text] of Object.entries(files(dir, port))) writeFileSync(join(dir, name), text)
  // Watched before the proxy starts, so that its writing the file cannot come first.
  const watcher = 'ready' in start ? watch(dir) : undefined
  const fd = 'listener' in start ? (start.listener as unknown as { _handle: { fd: number } })._handle.fd : 'ignore'
  const child = spawn(file, args(dir), { stdio: ['ignore', 'ignore', 'pipe', fd] })
  // The proxy holds the listening socket now; this process must not accept on it.
  if ('listener' in start) start.listener.close()
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  t.teardown(async () => {
    child.kill()
    await exited
    rmSync(dir, { recursive: true, force: true })
  })
  if (watcher !== undefined && 'ready' in start) {
    // A proxy that fails exits, with its reason on stderr.
    const failed = exited.then(() => { throw new Error(`${file} exited: ${stderr}`) })
    const ready = new Promise<void>((resolve) => {
      const check = (): void => { if (existsSync(join(dir, start.ready))) resolve() }
      watcher.on('change', check)
      check()
    })
    try {
      await Promise.race([ready, failed])
    } finally {
      watcher.close()
      failed.catch(() => {})
    }
  }
  return port
}

/** nginx with `site(port)` in its http context, as a file in /etc/nginx/conf.d/ is. */
export async function nginx (t: Test, site: (port: number) => string): Promise<number> {
  // nginx writes its pid file once its listening sockets are open (and takes no socket it did not open itself).
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
  }), { ready: 'nginx.pid' })
}

/**
 * HAProxy with the configuration `config(port)`. Its `bind 127.0.0.1:<port>` becomes `bind fd@3`, a
 * socket this process opened and hands over: it accepts from the start (HAProxy in the foreground
 * writes nothing that says it is ready), and the port is not free for another process meanwhile.
 */
export async function haproxy (t: Test, config: (port: number) => string): Promise<number> {
  const listener = createServer()
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  return await proxy(t, 'haproxy', (dir) => ['-db', '-f', join(dir, 'haproxy.cfg')], (_dir, port) => ({
    'haproxy.cfg': config(port).replaceAll(`bind 127.0.0.1:${port}`, 'bind fd@3')
  }), { listener })
}
