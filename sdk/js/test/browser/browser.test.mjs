// End to end in headless Chromium: a page that loads the built SDK shows a
// message published over REST, once over WebSocket and once over SSE. The
// page and the server share one origin through the test proxy.
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

test('browser page shows a message published over REST', { skip: skipWithoutChromium }, async (t) => {
  const defer = deferrer(t);
  const srv = await startPushflo(defer);
  const proxy = await startProxy(defer, srv.url, {
    statics: { '/sdk/': join(here, '..', '..', 'dist', 'browser'), '/page/': join(here, 'page') },
  });
  const publisher = new PushFloServer({ secretKey: keys.secretKey, baseUrl: srv.url });

  const browser = await launchChromium(defer);

  for (const transport of ['websocket', 'sse']) {
    await t.test(transport, async (t) => {
      const defer = deferrer(t);
      const page = await browser.newPage();
      defer(() => page.close());
      const logs = [];
      page.on('console', (m) => logs.push(m.text()));
      page.on('pageerror', (e) => logs.push(String(e)));
      const channel = `browser:${transport}`;
      await page.goto(`${proxy.url}/page/index.html?channel=${encodeURIComponent(channel)}&transports=${transport}&key=${encodeURIComponent(keys.publishKey)}`, { timeout: 15000 });
      await waitFor(
        () => page.evaluate(() => window.pushflo && window.pushflo.subscribed && document.getElementById('state').textContent === 'connected'),
        `page connected and subscribed (page log: ${logs.join(' | ')})`,
        15000,
      );
      assert.equal(await page.textContent('#transport'), transport);
      const res = await publisher.publish(channel, { status: 'shipped' }, { eventType: 'order-updated' });
      await waitFor(() => page.evaluate(() => document.querySelectorAll('#messages li').length === 1), 'message on the page', 15000);
      assert.equal(await page.textContent('#messages li'), 'order-updated: shipped');
      assert.equal(await page.getAttribute('#messages li', 'data-id'), res.id);
    });
  }
});
