// Finds the pushflo server binary for integration and browser tests:
// $PUSHFLO_BIN if set, otherwise `go build ./cmd/pushflo` from the repository
// root (two levels above sdk/js) into sdk/js/.cache/pushflo. Run as a script
// it builds once before the test files start, so they do not race to build.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const sdkRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const repoRoot = resolve(sdkRoot, '..', '..');
const cached = join(sdkRoot, '.cache', 'pushflo');

/** serverBinary returns the path of the binary to run, building it if needed and `build` is set. */
export function serverBinary({ build = false } = {}) {
  const fromEnv = process.env.PUSHFLO_BIN;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`PUSHFLO_BIN=${fromEnv} does not exist`);
    return resolve(fromEnv);
  }
  if (build) {
    if (!existsSync(join(repoRoot, 'cmd', 'pushflo'))) {
      throw new Error(`no ${join(repoRoot, 'cmd', 'pushflo')} to build; set PUSHFLO_BIN to a prebuilt pushflo binary`);
    }
    mkdirSync(dirname(cached), { recursive: true });
    execFileSync('go', ['build', '-o', cached, './cmd/pushflo'], { cwd: repoRoot, stdio: 'inherit' });
    return cached;
  }
  if (!existsSync(cached)) throw new Error(`no server binary at ${cached}; run node test/support/server-bin.mjs or set PUSHFLO_BIN`);
  return cached;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const bin = serverBinary({ build: true });
    console.log(`pushflo server binary: ${bin}`);
  } catch (err) {
    console.error(`cannot get a pushflo server binary: ${err.message}`);
    process.exit(1);
  }
}
