// The no-build-step install path: a plain HTML page, not served by pushflo,
// imports the SDK from the server itself —
//   import { PushFloClient } from "http://127.0.0.1:PORT/sdk/pushflo.js"
// — in headless Chromium, and shows a message published over REST. A module
// script from another origin is fetched with CORS, so this also proves the
// server sends the headers a browser needs. Skipped (with the reason) while
// the server does not serve /sdk/pushflo.js.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PushFloServer } from '../../dist/esm/server.js';
import { launchChromium, skipWithoutChromium } from '../support/chromium.mjs';
import { keys, startPushflo } from '../support/pushflo.mjs';
import { deferrer, waitFor } from '../support/wait.mjs';

test('a plain page imports /sdk/pushflo.js from the server and receives a message', { skip: skipWithoutChromium }, async (t) => {
  const defer = deferrer(t);
  const srv = await startPushflo(defer);
  const res = await fetch(`${srv.url}/sdk/pushflo.js`);
  const served = await res.text();
  assert.equal(res.status, 200, `GET /sdk/pushflo.js: ${res.status}`);
  assert.match(res.headers.get('content-type') ?? '', /javascript/);
  assert.equal(served, readFileSync(new URL('../../../../web/sdk/pushflo.js', import.meta.url), 'utf8'), 'the server serves the committed bundle');

  const browser = await launchChromium(defer);
  const page = await browser.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(m.text()));
  page.on('pageerror', (e) => logs.push(String(e)));
  // The page's own origin is not the server's: a file an app hosts anywhere.
  await page.setContent(`<!doctype html>
<p id="state">loading</p><ul id="messages"></ul>
<script type="module">
  import { PushFloClient } from "${srv.url}/sdk/pushflo.js";
  const client = new PushFloClient({ publishKey: ${JSON.stringify(keys.publishKey)}, reconnectDelay: 100 });
  window.subscribed = false;
  client.onConnectionChange((s) => (document.getElementById("state").textContent = s));
  client.subscribe("served:bundle", {
    onSubscribed: () => (window.subscribed = true),
    onMessage: (m) => {
      const li = document.createElement("li");
      li.dataset.id = m.id;
      li.textContent = m.content.status;
      document.getElementById("messages").appendChild(li);
    },
  });
  await client.connect();
</script>`);
  await waitFor(
    () => page.evaluate(() => window.subscribed && document.getElementById('state').textContent === 'connected'),
    `page connected through the served module (page log: ${logs.join(' | ')})`,
    20000,
  );
  const sent = await new PushFloServer({ secretKey: keys.secretKey, baseUrl: srv.url }).publish('served:bundle', { status: 'shipped' });
  await waitFor(() => page.evaluate(() => document.querySelectorAll('#messages li').length === 1), 'message on the page', 15000);
  assert.equal(await page.textContent('#messages li'), 'shipped');
  assert.equal(await page.getAttribute('#messages li', 'data-id'), sent.id);
});
