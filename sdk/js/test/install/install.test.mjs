// The three ways a user installs the SDK, each done for real:
//  - the `npm pack` tarball (what `make sdk-pack` builds) with npm, pnpm and
//    yarn (pinned in test/package.json) into a fresh app;
//  - a git checkout: the tracked files of sdk/js copied to a fresh folder,
//    `npm ci` there (its `prepare` script builds dist/), and the app
//    installs that folder by path.
// Each app then runs a script that imports every entry point (ESM and CJS)
// and publishes and receives a message through a real pushflo server with
// the installed copy.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { keys, startPushflo } from '../support/pushflo.mjs';
import { deferrer } from '../support/wait.mjs';

const sdkRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (name) => join(sdkRoot, 'test', 'node_modules', '.bin', name);
const quiet = { stdio: ['ignore', 'pipe', 'pipe'], timeout: 240000, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } };

function run(cmd, args, cwd, env = quiet.env) {
  try {
    return execFileSync(cmd, args, { ...quiet, cwd, env }).toString();
  } catch (err) {
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${err.stdout}\n${err.stderr}`);
  }
}

// The script an app runs after installing: every entry, both module systems, and optionally a round trip.
const checkScript = `
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { PushFloClient, ConnectionError, isValidChannelSlug } from '@pushflo/sdk';
import { PushFloServer } from '@pushflo/sdk/server';
const require = createRequire(import.meta.url);
let hasReact = true;
try {
  require.resolve('react');
} catch {
  hasReact = false; // an optional peer: npm installs it, pnpm and yarn do not
}
if (hasReact) assert.equal(typeof (await import('@pushflo/sdk/react')).useChannel, 'function');
const cjs = require('@pushflo/sdk');
assert.equal(typeof cjs.PushFloClient, 'function');
assert.equal(typeof require('@pushflo/sdk/server').PushFloServer, 'function');
assert.ok(new ConnectionError('x').retryable);
assert.equal(isValidChannelSlug('orders-1'), true);
assert.ok(existsSync(require.resolve('@pushflo/sdk/package.json').replace('package.json', 'dist/browser/pushflo.js')));
const url = process.env.PUSHFLO_URL;
if (url) {
  const { default: WebSocket } = await import(${JSON.stringify(join(sdkRoot, 'test', 'node_modules', 'ws', 'index.js'))});
  const client = new PushFloClient({ publishKey: process.env.PUB, baseUrl: url, WebSocket });
  const got = new Promise((ok) => client.subscribe('install-check', { onMessage: ok, onSubscribed: () => subscribed() }));
  let subscribed;
  const ready = new Promise((ok) => (subscribed = ok));
  await client.connect();
  await ready;
  const res = await new PushFloServer({ secretKey: process.env.SEC, baseUrl: url }).publish('install-check', { ok: true });
  const m = await got;
  assert.equal(m.id, res.id);
  client.destroy();
}
console.log('installed package works');
`;

function makeApp(root, name) {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }));
  writeFileSync(join(dir, 'check.mjs'), checkScript);
  return dir;
}

test('the SDK installs from its npm tarball and from a checkout', async (t) => {
  const defer = deferrer(t);
  const root = mkdtempSync(join(tmpdir(), 'pushflo-sdk-install-'));
  defer(() => rmSync(root, { recursive: true, force: true }));
  const srv = await startPushflo(defer);
  const env = { ...quiet.env, PUSHFLO_URL: srv.url, PUB: keys.publishKey, SEC: keys.secretKey };

  // dist/ is already built by `npm test`; pack it without building again.
  run('npm', ['pack', '--ignore-scripts', '--pack-destination', root], sdkRoot);
  const tarball = join(root, readdirSync(root).find((f) => f.endsWith('.tgz')));

  await t.test('npm', () => {
    const app = makeApp(root, 'app-npm');
    run('npm', ['install', '--no-package-lock', tarball], app);
    assert.match(run(process.execPath, ['check.mjs'], app, env), /installed package works/);
  });

  await t.test('pnpm', () => {
    const app = makeApp(root, 'app-pnpm');
    run(bin('pnpm'), ['add', tarball, '--store-dir', join(root, 'pnpm-store'), '--config.strict-peer-dependencies=false'], app);
    assert.match(run(process.execPath, ['check.mjs'], app, env), /installed package works/);
  });

  await t.test('yarn', () => {
    const app = makeApp(root, 'app-yarn');
    run(bin('yarn'), ['add', `file:${tarball}`, '--non-interactive', '--no-lockfile', '--cache-folder', join(root, 'yarn-cache')], app);
    assert.match(run(process.execPath, ['check.mjs'], app, env), /installed package works/);
  });

  await t.test('git checkout', () => {
    // The files git tracks, as a fresh clone has them: no dist/, no node_modules/.
    const checkout = join(root, 'checkout', 'sdk', 'js');
    const files = execFileSync('git', ['ls-files', '-z', '.'], { cwd: sdkRoot }).toString().split('\0').filter(Boolean);
    for (const f of files) {
      if (!existsSync(join(sdkRoot, f))) continue;
      mkdirSync(dirname(join(checkout, f)), { recursive: true });
      copyFileSync(join(sdkRoot, f), join(checkout, f));
    }
    assert.ok(!existsSync(join(checkout, 'dist')));
    run('npm', ['ci', '--prefer-offline'], checkout);
    assert.ok(existsSync(join(checkout, 'dist', 'esm', 'index.js')), 'prepare built dist/ during npm ci');
    const app = makeApp(root, 'app-checkout');
    run('npm', ['install', '--no-package-lock', checkout], app);
    assert.match(run(process.execPath, ['check.mjs'], app, env), /installed package works/);
  });
});
