// A browser's own EventSource, no SDK: when its stream breaks it
// reconnects by itself with Last-Event-ID, and the server replays exactly
// what it missed.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PushFloServer } from '../../dist/esm/server.js';
import { launchChromium, skipWithoutChromium } from '../support/chromium.mjs';
import { startProxy } from '../support/proxy.mjs';
import { keys, startPushflo } from '../support/pushflo.mjs';
import { deferrer, waitFor } from '../support/wait.mjs';

const here = dirname(fileURLToPath(import.meta.url));

test('native EventSource resumes by itself after its stream breaks', { skip: skipWithoutChromium }, async (t) => {
  const defer = deferrer(t);
  const srv = await startPushflo(defer);
  const proxy = await startProxy(defer, srv.url, { statics: { '/page/': join(here, 'page') } });
  const publisher = new PushFloServer({ secretKey: keys.secretKey, baseUrl: srv.url });
  const browser = await launchChromium(defer);
  const page = await browser.newPage();
  const channel = 'native:sse';
  await page.goto(`${proxy.url}/page/native-sse.html?channel=${encodeURIComponent(channel)}&key=${encodeURIComponent(keys.publishKey)}`, { timeout: 15000 });
  await waitFor(async () => (await page.textContent('#state')) === 'open', 'EventSource open', 15000);

  const published = [];
  const publish = async (n) => (await publisher.publish(channel, { n }, { eventType: 'tick' })).id;
  for (let n = 0; n < 3; n++) published.push(await publish(n));
  const count = () => page.evaluate(() => document.querySelectorAll('#messages li').length);
  await waitFor(async () => (await count()) === 3, 'three live messages on the page', 15000);

  // Break the stream and keep the browser's reconnects failing while four
  // more messages are published, then let it back in.
  proxy.state.cutSSE = true;
  proxy.dropAll();
  await waitFor(async () => (await page.textContent('#state')) === 'reconnecting', 'EventSource noticed the break', 15000);
  for (let n = 3; n < 7; n++) published.push(await publish(n));
  const before = proxy.state.sseRequests;
  await waitFor(async () => proxy.state.sseRequests > before, 'a failed reconnect attempt', 15000);
  proxy.state.cutSSE = false;

  await waitFor(async () => (await count()) === 7, 'the missed messages replayed', 15000);
  const ids = await page.evaluate(() => [...document.querySelectorAll('#messages li')].map((li) => li.dataset.id));
  assert.deepEqual(ids, published, 'every message once, in order');
  assert.equal(proxy.state.lastEventIds.at(-1), published[2], 'the browser resumed with the last ID it had seen');
});
