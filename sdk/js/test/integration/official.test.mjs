// The documented behaviours of @pushflodev/sdk v1.0.8 that an app sees at
// run time, checked against the real pushflo binary: the shapes of the
// `connected` and `disconnected` events, clientId, the four connection
// states, chaining listeners, once/removeAllListeners/listenerCount/
// eventNames/isSubscribed, onSubscribed called with nothing required,
// connect() rejecting with a retryable ConnectionError (and the client
// retrying on its own), and the server client's result shapes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { ConnectionError, PushFloClient } from '../../dist/esm/index.js';
import { PushFloServer } from '../../dist/esm/server.js';
import { startProxy } from '../support/proxy.mjs';
import { keys, startPushflo } from '../support/pushflo.mjs';
import { deferrer, waitFor } from '../support/wait.mjs';

const fast = { reconnectDelay: 20, maxReconnectDelay: 200, connectionTimeout: 5000 };
const officialStates = new Set(['disconnected', 'connecting', 'connected', 'error']);

test('official client events, states and listener methods', async (t) => {
  const defer = deferrer(t);
  const srv = await startPushflo(defer);
  const client = new PushFloClient({ publishKey: keys.publishKey, baseUrl: srv.url, WebSocket, ...fast });
  defer(() => client.destroy());
  assert.equal(client.clientId, null, 'clientId is null before connect');
  const states = [];
  client.onConnectionChange((s) => states.push(s));
  const infos = [];
  const reasons = [];
  let onceCalls = 0;
  const chained = client
    .on('connected', (info) => infos.push(info))
    .on('disconnected', (...args) => reasons.push(args))
    .once('connected', () => onceCalls++);
  assert.equal(chained, client, 'on() and once() return the client');
  assert.equal(client.listenerCount('connected'), 2);
  assert.deepEqual(client.eventNames().sort(), ['connected', 'disconnected']);

  const subscribedArgs = [];
  client.subscribe('official-events', { onSubscribed: (...args) => subscribedArgs.push(args) });
  assert.equal(client.isSubscribed('official-events'), true);
  assert.equal(client.isSubscribed('other'), false);
  await client.connect();
  assert.equal(infos.length, 1);
  assert.equal(typeof infos[0].clientId, 'string');
  assert.ok(infos[0].clientId.length > 0);
  assert.equal(infos[0].clientId, client.clientId);
  assert.equal(typeof infos[0].timestamp, 'number');
  await waitFor(() => subscribedArgs.length === 1, 'onSubscribed');

  // The server goes away and comes back: one `disconnected` with a string reason, then a new `connected`.
  await srv.restart();
  await waitFor(() => infos.length === 2 && client.connectionState === 'connected', 'reconnected', 20000);
  assert.equal(onceCalls, 1, 'once() listeners run once');
  assert.equal(reasons.length, 1);
  assert.equal(reasons[0].length, 1);
  assert.equal(typeof reasons[0][0], 'string');
  await waitFor(() => subscribedArgs.length === 2, 'onSubscribed after the reconnect');

  client.disconnect();
  assert.deepEqual(reasons.at(-1), ['Disconnected by client']);
  assert.equal(client.connectionState, 'disconnected');
  for (const s of states) assert.ok(officialStates.has(s), `state ${s} is one of the four`);
  assert.ok(states.includes('disconnected') && states.includes('connecting') && states.includes('connected'));

  client.removeAllListeners('connected');
  assert.equal(client.listenerCount('connected'), 0);
  assert.equal(client.listenerCount('disconnected'), 1);
  client.removeAllListeners();
  assert.deepEqual(client.eventNames(), []);
});

test('connect() rejects with ConnectionError and the client retries on its own', async (t) => {
  const defer = deferrer(t);
  const srv = await startPushflo(defer);
  const proxy = await startProxy(defer, srv.url);
  proxy.state.blockWebSocket = true;
  const client = new PushFloClient({ publishKey: keys.publishKey, baseUrl: proxy.url, WebSocket, transports: ['websocket'], ...fast });
  defer(() => client.destroy());
  const errors = [];
  client.on('error', (e) => errors.push(e));
  await assert.rejects(client.connect(), (e) => {
    assert.ok(e instanceof ConnectionError, String(e));
    assert.equal(e.code, 'CONNECTION_FAILED');
    assert.equal(e.retryable, true);
    return true;
  });
  assert.equal(client.connectionState, 'error');
  assert.ok(errors[0] instanceof ConnectionError, 'the error event carries the same failure');
  proxy.state.blockWebSocket = false;
  await waitFor(() => client.connectionState === 'connected', 'connected by the background retry', 15000);
});

test('official server client shapes', async (t) => {
  const defer = deferrer(t);
  const srv = await startPushflo(defer);
  // sec_ keys publish and read; channel management goes to baseUrl (consoleUrl defaults to it).
  const pushflo = new PushFloServer({ secretKey: keys.secretKey, baseUrl: srv.url, debug: false });
  const mgmt = new PushFloServer({ secretKey: keys.mgmtKey, baseUrl: srv.url });
  const r = await pushflo.publish('official-shapes', { title: 'New Order' });
  assert.equal(r.eventType, 'message');
  assert.equal(r.channelSlug, 'official-shapes');
  const { messages, pagination } = await pushflo.getMessageHistory('official-shapes', { page: 1, pageSize: 50 });
  assert.deepEqual(messages.map((m) => m.id), [r.id]);
  assert.equal(pagination.page, 1);
  assert.equal(pagination.total, 1);
  await mgmt.createChannel({ name: 'Order Updates', slug: 'order-updates', description: 'x' });
  const { channels, pagination: cp } = await mgmt.listChannels({ page: 1, pageSize: 25 });
  assert.ok(channels.some((c) => c.slug === 'order-updates'), JSON.stringify(channels));
  assert.ok(cp.total >= 1);
  await mgmt.deleteChannel('order-updates');
});
