'use strict'

// A throwaway redis-server (Debian's package) on 127.0.0.1 for bench/fanout.js and the cluster
// tests: no configuration file, nothing saved to disk, ready once its log says so.
const { spawn } = require('node:child_process')

/** Starts redis-server on `port`; resolves once it accepts connections. */
function startRedis (port) {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => { resolve(code ?? signal) }))
  return new Promise((resolve, reject) => {
    let ready = false
    // Read on after the ready line: a pipe nobody reads would block its logging.
    child.stdout.on('data', (chunk) => {
      output += chunk.toString()
      if (ready || !output.includes('Ready to accept connections')) return
      ready = true
      resolve({
        port,
        pid: child.pid,
        output: () => output,
        exited,
        /** SIGTERM: redis-server closes its clients' connections and exits. */
        async stop () {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
          return await exited
        }
      })
    })
    child.stderr.on('data', (chunk) => { output += chunk.toString() })
    child.once('error', reject)
    exited.then((code) => { reject(new Error(`redis-server exited (${code}): ${output}`)) })
  })
}

module.exports = { startRedis }
