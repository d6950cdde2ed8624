// web/sdk/pushflo.js, the browser ES module the server serves at
// /sdk/pushflo.js, is committed; this fails when it no longer matches what
// `npm run build` makes from the source today. Fix: `make sdk-bundle`.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

const built = new URL('../../dist/browser/pushflo.js', import.meta.url);
const committed = new URL('../../../../web/sdk/pushflo.js', import.meta.url);

test('web/sdk/pushflo.js is up to date with sdk/js/src', () => {
  assert.ok(existsSync(committed), 'web/sdk/pushflo.js is missing: run `make sdk-bundle`');
  const want = readFileSync(built, 'utf8');
  const have = readFileSync(committed, 'utf8');
  assert.ok(have === want, 'web/sdk/pushflo.js differs from the bundle built from sdk/js/src: run `make sdk-bundle` and commit it');
});

test('the bundle is one self-contained ES module that defaults baseUrl to its own origin', async () => {
  const src = readFileSync(built, 'utf8');
  assert.doesNotMatch(src, /^\s*import\s|require\(/m, 'no imports left');
  assert.match(src, /import\.meta\.url/);
  // Loaded from a URL, a client made without baseUrl connects to that origin.
  const mod = await import(`data:text/javascript;base64,${Buffer.from(src).toString('base64')}`);
  assert.equal(typeof mod.PushFloClient, 'function');
  assert.equal(typeof mod.ConnectionError, 'function');
});
