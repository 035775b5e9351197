'use strict'

// Writes BENCHMARKS.md and bench/chart.svg from the runs in bench/results.json (one per Node line,
// the newest line first: the headline). The findings below the tables come from bench/notes.md,
// written by hand. `node bench/report.js` redraws from the last runs.
const { readFileSync, writeFileSync } = require('node:fs')
const { join } = require('node:path')

const ROOT = join(__dirname, '..')

const format = (n, unit) => unit === 'bytes' ? `${(n / 1024).toFixed(1)} KiB` : n >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(2)
const escape = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const range = (r, digits) => `${r.q1.toFixed(digits)} – ${r.q3.toFixed(digits)}`

function targetText (ratio) {
  if (ratio.report) return 'report'
  if (ratio.cpuOver !== undefined) return `≤ ${ratio.cpuOver} µs`
  return ratio.min !== undefined ? `≥ ${ratio.min}` : `≤ ${ratio.max}`
}

/** A ratio's median, or the µs of server CPU per op `of` spends over `to` (`cpuOver`). */
const medianText = (r) => r.cpuOver === undefined ? `${r.median.toFixed(3)} vs ${r.to}` : `${r.median.toFixed(1)} µs CPU over ${r.to}`

const VERDICTS = { met: 'met', missed: '**missed**', straddles: 'IQR straddles it' }
const COLOURS = { met: '#2e7d32', missed: '#c62828', straddles: '#ef8f00' }

/** One bar per ratio (its median) with its interquartile range and its target as a line. */
function chart (run) {
  // What the targets are judged by: the ratio by server CPU per op where the figure measures it.
  const rows = run.figures.flatMap((figure) => figure.ratios.filter((ratio) => ratio.cpuOver === undefined).map((ratio) => ({ figure, ratio, shown: ratio.byCpu ?? ratio })))
  const labelWidth = 470
  const barWidth = 360
  const rowHeight = 30
  const top = 40
  const scale = Math.max(1.5, ...rows.map(({ shown }) => shown.q3)) * 1.05
  const x = (value) => labelWidth + (value / scale) * barWidth
  const height = top + rows.length * rowHeight + 30
  const width = labelWidth + barWidth + 80
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">fastify-upgrade / contender by server CPU per op (median of paired rounds, IQR; line: target) — ${escape(run.date.slice(0, 10))}, Node ${escape(run.node)}, ${run.mode}</text>`
  ]
  for (const tick of [0, 0.5, 1, 1.5, 2, 2.5, 3].filter((t) => t <= scale)) {
    parts.push(`<line x1="${x(tick)}" y1="${top - 6}" x2="${x(tick)}" y2="${height - 24}" stroke="#ddd"/>`,
      `<text x="${x(tick)}" y="${height - 10}" text-anchor="middle" fill="#666">${tick}×</text>`)
  }
  rows.forEach(({ figure, ratio, shown }, i) => {
    const y = top + i * rowHeight
    const label = `${figure.title.split(' (')[0]}: ${ratio.of} / ${ratio.to}`
    parts.push(`<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escape(label.length > 78 ? label.slice(0, 77) + '…' : label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 4}" width="${x(shown.median) - labelWidth}" height="16" fill="${COLOURS[ratio.verdict] ?? '#999'}"/>`,
      `<line x1="${x(shown.q1)}" y1="${y + 12}" x2="${x(shown.q3)}" y2="${y + 12}" stroke="#000"/>`,
      `<text x="${x(Math.max(shown.median, shown.q3)) + 4}" y="${y + 16}">${shown.median.toFixed(2)}</text>`)
    const target = ratio.min ?? ratio.max
    if (target !== undefined) parts.push(`<line x1="${x(target)}" y1="${y + 1}" x2="${x(target)}" y2="${y + 23}" stroke="#000" stroke-width="2"/>`)
  })
  parts.push('</svg>')
  return parts.join('\n') + '\n'
}

function table (run) {
  const lines = [
    '| figure | contender | median | IQR | server CPU per op | ratio (median of rounds) | ratio IQR | target | | ratio by server CPU per op (IQR) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |'
  ]
  for (const figure of run.figures) {
    figure.contenders.forEach((c, i) => {
      const own = figure.ratios.filter((r) => r.of === c.name)
      const cells = [own.map(medianText), own.map((r) => range(r, r.cpuOver === undefined ? 3 : 1)), own.map(targetText), own.map((r) => VERDICTS[r.verdict] ?? '—'),
        own.map((r) => r.byCpu === undefined ? '' : `${r.byCpu.median.toFixed(3)} (${range(r.byCpu, 3)})`)]
      const cpu = c.cpuPerOp === undefined ? '' : `${c.cpuPerOp.median.toFixed(1)} µs`
      const unit = figure.title.includes(figure.unit) ? [] : [figure.unit]
      if (figure.lowerIsBetter) unit.push('lower is better')
      lines.push(`| ${i === 0 ? `${figure.title}${unit.length > 0 ? ` (${unit.join(', ')})` : ''}` : ''} | ${c.name} | ` +
        `${format(c.median, figure.unit)} | ${format(c.q1, figure.unit)} – ${format(c.q3, figure.unit)} | ${cpu} | ${cells.map((cell) => cell.join('<br>')).join(' | ')} |`)
    })
  }
  return lines.join('\n')
}

/** How cost grows with load: one row per measure, fastify-upgrade and raw ws side by side. */
function growthTable (rows) {
  const names = Object.keys(rows[0].values)
  return [
    `| how cost grows (lower is better) | ${names.join(' | ')} | ${names.join(' / ')} |`,
    `| --- | ${names.map(() => '---:').join(' | ')} | ---: |`,
    ...rows.map((row) => {
      const values = names.map((name) => row.values[name])
      const cells = values.map((value) => row.unit === 'ms' ? `${value.toFixed(2)} ms` : format(value, row.unit))
      return `| ${row.what} | ${cells.join(' | ')} | ${(values[0] / values[1]).toFixed(2)} |`
    })
  ].join('\n')
}

function section (run) {
  return `## Node ${run.node}

Run of ${run.date.slice(0, 16).replace('T', ' ')} UTC: ${run.cpus} CPUs (${run.cpu}), ${run.pinned ? `servers on CPU ${run.pinned.servers}, load generator on CPU ${run.pinned.load}` : 'not pinned to CPUs'},
${run.mode} mode: ${run.rounds} rounds of ${run.seconds} s per contender, each on freshly started servers after ${run.warmUpSeconds} s of warm-up; ${run.durationSeconds} s in all.

${table(run)}
${run.growth === undefined ? '' : `\n${growthTable(run.growth)}\n`}`
}

const KB = (bytes) => format(bytes, 'bytes')
const MB = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MB`

/** The runs recorded in bench/<file>, one per Node line; `undefined` before the first. */
function recordedRuns (file) {
  try {
    return Object.values(JSON.parse(readFileSync(join(__dirname, file), 'utf8')))
  } catch {
    return undefined
  }
}

/** The "Soak" section, from the runs of `npm run soak` in bench/soak.json (scripts/soak.js); none before the first. */
function soakSection () {
  const runs = recordedRuns('soak.json')
  if (runs === undefined) return ''
  runs.sort((a, b) => Number(a.node.slice(1).split('.')[0]) - Number(b.node.slice(1).split('.')[0]))
  const rows = runs.map((r) =>
    `| ${r.node} | ${r.cpu} | ${r.websockets.toLocaleString('en')} + ${r.sessions.toLocaleString('en')} | ${KB(r.rssPerWebSocket)} | ${KB(r.rssPerSession)} | ` +
    `${MB(r.heap.base)} → ${MB(r.heap.open)} → ${MB(r.heap.afterChurn)} → ${MB(r.heap.afterClose)} | ` +
    `${(r.closeMs / 1000).toFixed(2)} s | ${Object.entries(r.closeCodes).map(([code, n]) => `${n.toLocaleString('en')} × ${code}`).join(', ')} | ` +
    `${r.leftOpen.sockets} | ${r.date} |`)
  return [
    '',
    '## Soak',
    '',
    'Generated by `npm run soak` (scripts/soak.js) into [bench/soak.json](bench/soak.json), one row per Node line, last run of each.',
    'The server runs in its own process (`--expose-gc`, measured after a full GC) with `websocket()` and `h2c()` on one route;',
    'the client opens the WebSockets (raw sockets, 100 handshakes at a time), then the h2c sessions (half upgraded, half',
    'prior knowledge, one GET each), closes 20% of each and opens as many again, then calls `fastify.close()`',
    '(the WebSocket clients answer the server\'s close frame). Loopback, client and server sharing the CPUs.',
    '',
    '| Node | CPU | WebSockets + h2c sessions | RSS per WebSocket | RSS per h2c session | heap: empty → all open → after churn → after close | `fastify.close()` | WebSocket close codes | sockets left | run |',
    '| --- | --- | ---: | ---: | ---: | --- | ---: | --- | ---: | --- |',
    ...rows,
    '',
    `Command: \`${runs[runs.length - 1].command}\` (\`scripts/node-line.sh 26 npm run soak\` for Node 26). Each process needs one file`,
    'descriptor per connection: the script raises its soft `ulimit -n` to the hard limit when it is lower than that, and stops',
    'with a message when the hard limit is too low.',
    ''
  ].join('\n')
}

/** The "Fan-out" section, from the runs of bench/fanout.js in bench/fanout.json; none before the first. */
function fanoutSection () {
  const runs = recordedRuns('fanout.json')
  if (runs === undefined) return ''
  const number = (n) => Math.round(n).toLocaleString('en')
  return runs.map((r) => [
    '',
    `## Fan-out (${r.node})`,
    '',
    `Generated by \`${r.command}\` (bench/fanout.js) into [bench/fanout.json](bench/fanout.json), ${r.date}, ${r.cpu}.`,
    `One publisher sends ${r.rate} text messages/s (timestamped) for ${r.seconds} s after a warm-up; every client`,
    'must receive each. "1 process": the server broadcasts to its own clients; "Redis": it publishes to Redis and',
    'broadcasts what its subscription delivers (examples/cluster/app.mjs\'s way), with the clients split evenly',
    'between the processes. Latency is from publish to receipt; CPU is the servers\' own, per delivered message.',
    'Loopback, unpinned: servers, Redis and the clients share the machine\'s CPUs.',
    '',
    '| clients | setup | deliveries/s | delivered | p50 | p99 | server CPU per delivery | Redis CPU |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.rows.map((row) => `| ${number(row.clients)} | ${row.setup} | ${number(row.perSecond)} | ${(row.complete * 100).toFixed(1)} % | ` +
      `${row.p50.toFixed(2)} ms | ${row.p99.toFixed(2)} ms | ${row.cpuPerDelivery.toFixed(2)} µs | ${row.redisCpuShare === undefined || row.redisCpuShare === null ? '' : `${(row.redisCpuShare * 100).toFixed(1)} %`} |`),
    ...(r.skipped.length === 0 ? [] : ['', `Skipped for \`ulimit -n\`: ${r.skipped.map(number).join(', ')} clients.`]),
    ''
  ].join('\n')).join('')
}

function report ({ runs }) {
  writeFileSync(join(__dirname, 'chart.svg'), chart(runs[0]))
  const notes = readFileSync(join(__dirname, 'notes.md'), 'utf8')
  const page = `# Benchmarks

Generated by \`npm run bench\` (Node 26) and \`npm run bench -- --node 20\` (bench/run.js, bench/report.js) into
[bench/results.json](bench/results.json), one run per Node line, the newest first. A ratio is taken within each round
(both contenders measured back to back under the same conditions) and given as the median over the rounds with its
interquartile range (IQR). The last column compares the servers' own CPU time per operation the same way (B's over
A's, so that higher is better, as for rates): other load on the machine moves it less than the rates. A target counts
as met or missed only when the whole IQR of that ratio by server CPU is on one side of it (of the rate ratio where a
figure measures no CPU, as memory).

![fastify-upgrade / contender by server CPU per op, median paired ratios against their targets](bench/chart.svg)

${runs.map(section).join('\n')}
${notes}${fanoutSection()}${soakSection()}`
  writeFileSync(join(ROOT, 'BENCHMARKS.md'), page)
}

if (require.main === module) report(JSON.parse(readFileSync(join(__dirname, 'results.json'), 'utf8')))

module.exports = { report }
