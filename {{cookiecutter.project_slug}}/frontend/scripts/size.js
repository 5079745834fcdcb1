// Prints the JavaScript a first visit downloads (the entry module and the
// modules it preloads), gzipped, and fails past the budget. Run after `vite build`.
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'

const BUDGET_KB = 80
const dist = new URL('../dist/', import.meta.url)

const html = readFileSync(new URL('index.html', dist), 'utf8')
const initial = [...html.matchAll(/<(?:script type="module"[^>]*\ssrc|link rel="modulepreload"[^>]*\shref)="\/([^"]+\.js)"/g)].map(
  (match) => match[1] ?? '',
)
if (initial.length === 0) {
  console.error('dist/index.html loads no JavaScript module: was it built by `vite build`?')
  process.exit(1)
}

let total = 0
for (const file of initial) {
  const bytes = gzipSync(readFileSync(new URL(file, dist)), { level: 9 }).length
  total += bytes
  console.log(`  ${file}  ${(bytes / 1024).toFixed(1)} KB gzipped`)
}
const kb = total / 1024
console.log(`initial JS: ${kb.toFixed(1)} KB gzipped (budget ${String(BUDGET_KB)} KB)`)
if (kb > BUDGET_KB) {
  console.error(`over the budget by ${(kb - BUDGET_KB).toFixed(1)} KB`)
  process.exit(1)
}
