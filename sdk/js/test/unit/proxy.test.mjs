// The test proxy (used by the integration and browser tests) passes
// WebSocket and streaming SSE through, refuses upgrades on demand and cuts
// connections; checked here against the in-process fake server.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import WebSocket from 'ws';
import { PushFloClient } from '../../dist/esm/index.js';
import { startFakeServer } from '../support/fake-server.mjs';
import { startProxy } from '../support/proxy.mjs';
import { deferrer, waitFor } from '../support/wait.mjs';

test('proxy passes websocket and sse, and blocks upgrades on demand', async (t) => {
  const defer = deferrer(t);
  const server = await startFakeServer();
  defer(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), 'pushflo-static-'));
  writeFileSync(join(dir, 'a.html'), '<p>hi</p>');
  const proxy = await startProxy(defer, server.url, { statics: { '/static/': dir } });
  const page = await fetch(`${proxy.url}/static/a.html`);
  assert.equal(page.headers.get('content-type'), 'text/html');
  assert.equal(await page.text(), '<p>hi</p>');

  const client = new PushFloClient({ publishKey: 'pub_test', baseUrl: proxy.url, WebSocket, reconnectDelay: 20, maxReconnectDelay: 100, sseFallbackAfter: 2, websocketRetryInterval: 100 });
  defer(() => client.destroy());
  const got = [];
  client.subscribe('ch', { onMessage: (m) => got.push(m.content.n) });
  await client.connect();
  assert.equal(client.transport, 'websocket');
  await waitFor(() => server.wsClientCount() === 1 && server.state.frames.length > 0, 'subscribed through proxy');
  server.publish('ch', { n: 1 });
  await waitFor(() => got.length === 1, 'ws message through proxy');

  proxy.state.blockWebSocket = true;
  proxy.dropAll();
  await waitFor(() => client.transport === 'sse' && client.connectionState === 'connected', 'fell back to sse');
  await waitFor(() => server.sseClientCount() === 1, 'sse stream through proxy');
  server.publish('ch', { n: 2 });
  await waitFor(() => got.length === 2, 'sse message through proxy');
  assert.ok(proxy.state.wsRefused >= 2);

  proxy.state.blockWebSocket = false;
  await waitFor(() => client.transport === 'websocket', 'back on websocket');
  server.publish('ch', { n: 3 });
  await waitFor(() => got.length === 3, 'ws again');
  assert.deepEqual(got, [1, 2, 3]);
});
