'use strict'

// The benchmark servers (bench/server.js), each in a process of its own, pinned to SERVER_CPU when
// the load generator runs pinned to LOAD_CPU. BENCH_PROF=1 runs them with --cpu-prof (profiles in
// bench/profiles/).
const { fork, spawnSync } = require('node:child_process')
const os = require('node:os')
const { join } = require('node:path')

const SERVER_CPU = '0'
const LOAD_CPU = '1'

/**
 * Why the processes cannot be pinned, or `undefined` when they can. It asks the machine, not this
 * process's own affinity: a load generator started already pinned to LOAD_CPU sees one CPU.
 */
function cannotPin () {
  if (os.cpus().length < 2) return `${os.cpus().length} CPU`
  const probe = spawnSync('taskset', ['-c', `${SERVER_CPU},${LOAD_CPU}`, 'true'])
  if (probe.error !== undefined) return 'taskset (util-linux) not found'
  if (probe.status !== 0) return `taskset failed: ${probe.stderr.toString().trim()}`
  return undefined
}

/**
 * Starts a server of `kind` (see bench/server.js) with this process's Node binary, once it listens;
 * `env` adds to this process's environment. `restart()` replaces its process with a fresh one, in
 * place (a new `port` and `pid`): what V8 compiles differs from process to process.
 */
async function start (kind, pinned, env = {}) {
  let child
  const answer = () => new Promise((resolve, reject) => {
    const exited = (code) => { reject(new Error(`server ${kind} exited with ${code}`)) }
    child.once('exit', exited)
    child.once('message', (message) => {
      child.removeListener('exit', exited)
      resolve(message)
    })
  })
  const stop = () => new Promise((resolve) => {
    child.once('exit', resolve)
    child.kill('SIGINT')
  })
  const server = {
    port: 0,
    pid: 0,
    /** CPU time the server has used, in µs. */
    async cpu () {
      child.send('cpu')
      return (await answer()).cpu
    },
    /** `rss` and `heapUsed` after a full GC, in bytes. */
    async memory () {
      child.send('rss')
      return answer()
    },
    async restart () {
      if (child !== undefined) await stop()
      const flags = ['--expose-gc']
      if (process.env.BENCH_PROF) flags.push('--cpu-prof', `--cpu-prof-dir=${join(__dirname, 'profiles')}`, `--cpu-prof-name=${kind}-${Date.now()}.cpuprofile`)
      // fork() runs `execPath ...execArgv server.js kind`: with taskset, that is `taskset -c 0 node ...`.
      const [execPath, execArgv] = pinned ? ['taskset', ['-c', SERVER_CPU, process.execPath, ...flags]] : [process.execPath, flags]
      child = fork(join(__dirname, 'server.js'), [kind], { execPath, execArgv, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      server.pid = child.pid
      server.port = (await answer()).port
    },
    stop
  }
  await server.restart()
  return server
}

module.exports = { LOAD_CPU, SERVER_CPU, cannotPin, start }
