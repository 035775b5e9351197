'use strict'

/** Linear interpolation between the closest ranks of `sorted` (ascending). */
function quantile (sorted, p) {
  const at = (sorted.length - 1) * p
  const below = Math.floor(at)
  return sorted[below] + (sorted[Math.min(below + 1, sorted.length - 1)] - sorted[below]) * (at - below)
}

/** Median and interquartile range. */
function summary (values) {
  const sorted = [...values].sort((a, b) => a - b)
  return { median: quantile(sorted, 0.5), q1: quantile(sorted, 0.25), q3: quantile(sorted, 0.75) }
}

module.exports = { quantile, summary }
