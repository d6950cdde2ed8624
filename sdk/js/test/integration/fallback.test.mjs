// SSE fallback against the real server behind a proxy that refuses
// WebSocket upgrades, and the way back to WebSocket once it allows them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { PushFloClient } from '../../dist/esm/index.js';
import { PushFloServer } from '../../dist/esm/server.js';
import { collect } from '../support/collect.mjs';
import { startProxy } from '../support/proxy.mjs';
import { keys, startPushflo } from '../support/pushflo.mjs';
import { deferrer, waitFor } from '../support/wait.mjs';

const fast = { reconnectDelay: 50, maxReconnectDelay: 300, connectionTimeout: 5000 };

test('SSE fallback when the WebSocket endpoint is refused', async (t) => {
  const defer = deferrer(t);
  const srv = await startPushflo(defer);
  const proxy = await startProxy(defer, srv.url);
  proxy.state.blockWebSocket = true;
  const publisher = new PushFloServer({ secretKey: keys.secretKey, baseUrl: srv.url });
  const client = new PushFloClient({
    publishKey: keys.publishKey,
    baseUrl: proxy.url,
    WebSocket,
    sseFallbackAfter: 2,
    websocketRetryInterval: 200,
    connectWaitsForRetries: true,
    ...fast,
  });
  defer(() => client.destroy());
  const { got, subscribed } = collect(client, 'fallback:a');
  await client.connect();
  assert.equal(client.transport, 'sse');
  assert.ok(proxy.state.wsRefused >= 2, 'websocket was tried first');
  await waitFor(() => subscribed() >= 1, 'sse stream open');

  const sent = [];
  sent.push((await publisher.publish('fallback:a', { n: 1 }, { eventType: 'order-updated' })).id);
  await waitFor(() => got.length === 1, 'message over sse');
  assert.equal(got[0].eventType, 'order-updated');

  // The SSE stream is cut; messages published meanwhile come back by resume.
  proxy.state.blockSSE = true;
  proxy.dropAll();
  sent.push((await publisher.publish('fallback:a', { n: 2 })).id);
  await waitFor(() => client.isReconnecting, 'reconnecting');
  proxy.state.blockSSE = false;
  await waitFor(() => got.length === 2, 'resumed over sse');

  // The proxy lets WebSocket through again: the client's probe moves it back.
  proxy.state.blockWebSocket = false;
  await waitFor(() => client.transport === 'websocket', 'back on websocket');
  sent.push((await publisher.publish('fallback:a', { n: 3 })).id);
  await waitFor(() => got.length === 3, 'message over websocket');
  assert.deepEqual(got.map((m) => m.id), sent, 'every message once, in order, across both switches');
});

test('SSE through a supplied EventSource', async (t) => {
  const defer = deferrer(t);
  const srv = await startPushflo(defer);
  const publisher = new PushFloServer({ secretKey: keys.secretKey, baseUrl: srv.url });
  const client = new PushFloClient({
    publishKey: keys.publishKey,
    baseUrl: srv.url,
    transports: ['sse'],
    EventSource,
    sseEventTypes: ['order-updated'],
    ...fast,
  });
  defer(() => client.destroy());
  const { got, subscribed } = collect(client, 'es:a');
  await client.connect();
  await waitFor(() => subscribed() >= 1, 'eventsource open');
  const a = await publisher.publish('es:a', { n: 1 });
  const b = await publisher.publish('es:a', { n: 2 }, { eventType: 'order-updated' });
  await waitFor(() => got.length === 2, 'both event types');
  assert.deepEqual(got.map((m) => m.id), [a.id, b.id]);
});
