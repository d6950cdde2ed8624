// Builds the browser ES module bundle, src/bundle.ts with everything it
// imports in one file, with esbuild (pinned in package-lock.json, so the
// output is the same on every machine). Usage:
//   node scripts/bundle.mjs [outfile]     default: ../../web/sdk/pushflo.js
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = resolve(process.argv[2] ?? join(root, '..', '..', 'web', 'sdk', 'pushflo.js'));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

await build({
  absWorkingDir: root,
  entryPoints: ['src/bundle.ts'],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  // Minified: smaller for browsers, and one long line, which the duplicates
  // tool passes over (lines past 2,000 characters), so generated output is
  // not counted against its TypeScript source.
  minify: true,
  legalComments: 'none',
  charset: 'utf8',
  banner: {
    js: `// ${pkg.name} ${pkg.version} — browser ES module built from sdk/js by \`make sdk-bundle\`; do not edit.\n// MIT licence. Source: sdk/js/src in the pushflo repository.`,
  },
  logLevel: 'warning',
});
console.log(`built ${outfile}`);
