// Before Node 24.13 (see test/typescript.mjs): tap starts each test through the ES module loader
// (it passes --import); a .ts file is CommonJS (package.json "type"), so this hands it to Node's
// CommonJS loader, which reads it through require.extensions['.ts'].
export function load (url, context, nextLoad) {
  return url.endsWith('.ts') ? { format: 'commonjs', shortCircuit: true } : nextLoad(url, context)
}
