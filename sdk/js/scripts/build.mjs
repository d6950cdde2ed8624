// Builds dist/esm (ES modules) and dist/cjs (CommonJS), each with type
// declarations, from src/ with the TypeScript compiler alone. A package.json
// in each folder tells Node which module format the .js files there use.
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
console.log('built dist/esm and dist/cjs');
