// The one build recipe for everything the project ships: the two service images (their Dockerfiles
// run it in the build stage) and the two Lambda bundles (scripts/package.sh runs it). Bundles an
// entry point and the workspace code it imports, from source, into one ES module for the Node.js in
// versions.json.
//
// Usage: node scripts/lib/build.mjs service|lambda ENTRY.ts OUTFILE.mjs
//   service   with a source map beside it (the images run node --enable-source-maps)
//   lambda    minified (smaller package, faster cold start), names kept for readable stack traces
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const KINDS = {
  service: { sourcemap: true },
  lambda: { minify: true, keepNames: true },
};

const [kind, entry, outfile] = process.argv.slice(2);
if (!(kind in KINDS) || !entry || !outfile) {
  console.error('Usage: node scripts/lib/build.mjs service|lambda ENTRY.ts OUTFILE.mjs');
  process.exit(2);
}

const { node } = JSON.parse(readFileSync(new URL('../../versions.json', import.meta.url), 'utf8'));
await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: `node${node.split('.')[0]}`,
  // Workspace packages are consumed from their TypeScript sources.
  conditions: ['source'],
  // Some dependencies are CommonJS and call require(); an ES module has none of its own.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
  ...KINDS[kind],
});
