import { runShare } from './docs-helpers'

// A share of the programs of README.md, docs/*.md and examples/ (test/docs-helpers.ts).
runShare(__filename)
