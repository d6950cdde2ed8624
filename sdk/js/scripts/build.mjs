// Builds dist/esm (ES modules) and dist/cjs (CommonJS), each with type
// declarations, from src/ with the TypeScript compiler, and the browser ES
// module bundle dist/browser/pushflo.js (scripts/bundle.mjs, esbuild). A
// package.json in each folder tells Node which module format the .js files
// there use. It runs as the package's `prepare` script, so `npm install`
// in a checkout and `npm pack` build dist/ first.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

rmSync(join(root, 'dist'), { recursive: true, force: true });
for (const project of ['tsconfig.json', 'tsconfig.cjs.json']) {
  try {
    execFileSync(process.execPath, [tsc, '-p', join(root, project)], { stdio: 'inherit', cwd: root });
  } catch {
    console.error(`build failed: tsc -p ${project} reported errors (above)`);
    process.exit(1);
  }
}
writeFileSync(join(root, 'dist', 'esm', 'package.json'), '{"type":"module"}\n');
writeFileSync(join(root, 'dist', 'cjs', 'package.json'), '{"type":"commonjs"}\n');
try {
  execFileSync(process.execPath, [join(root, 'scripts', 'bundle.mjs'), join(root, 'dist', 'browser', 'pushflo.js')], { stdio: 'inherit', cwd: root });
} catch {
  console.error('build failed: the browser bundle could not be built (above)');
  process.exit(1);
}
console.log('built dist/esm, dist/cjs and dist/browser/pushflo.js');
