// The package's three entry points resolve through package.json "exports"
// (self-reference by name) in both module systems, and the CommonJS build
// exports the same names as the ES build.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const require = createRequire(import.meta.url);

test('package exports work from ESM and CJS', async () => {
  const esm = await import('@pushflo/sdk');
  const cjs = require('@pushflo/sdk');
  for (const m of [esm, cjs]) {
    assert.equal(typeof m.PushFloClient, 'function');
    assert.equal(typeof m.PushFloError, 'function');
    assert.equal(typeof m.compareIds, 'function');
  }
  const serverEsm = await import('@pushflo/sdk/server');
  const serverCjs = require('@pushflo/sdk/server');
  assert.equal(typeof serverEsm.PushFloServer, 'function');
  assert.equal(typeof serverCjs.PushFloServer, 'function');
  const reactEsm = await import('@pushflo/sdk/react');
  const reactCjs = require('@pushflo/sdk/react');
  for (const m of [reactEsm, reactCjs]) {
    for (const name of ['PushFloProvider', 'useChannel', 'usePushFlo']) assert.equal(typeof m[name], 'function', name);
  }
  // Errors are real subclasses in each build.
  const e = new cjs.AuthenticationError('x');
  assert.ok(e instanceof cjs.PushFloError && e instanceof Error);
  assert.equal(e.name, 'AuthenticationError');
});

test('the browser entry imports nothing from Node', async () => {
  const { readFileSync, readdirSync } = await import('node:fs');
  const dir = new URL('../../dist/esm/', import.meta.url);
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.js') && f !== 'server.js' && f !== 'http.js' && f !== 'react.js')) {
    const src = readFileSync(new URL(f, dir), 'utf8');
    assert.doesNotMatch(src, /from ['"](node:|ws['"]|react)/, f);
  }
});
