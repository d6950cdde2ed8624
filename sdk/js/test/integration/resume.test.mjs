// Resume against the real server: after any drop the client re-subscribes
// with the last message ID it delivered, and `onMessage` sees every message
// exactly once, in publish order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { PushFloClient } from '../../dist/esm/index.js';
import { PushFloServer } from '../../dist/esm/server.js';
import { collect } from '../support/collect.mjs';
import { startProxy } from '../support/proxy.mjs';
import { keys, startPushflo } from '../support/pushflo.mjs';
import { deferrer, waitFor } from '../support/wait.mjs';

const fast = { reconnectDelay: 50, maxReconnectDelay: 300, connectionTimeout: 5000 };

// subscribeAndPublish connects client subscribed to channel, publishes
// messages {i: 1} … {i: n} and waits until the client has all n; `sent`
// holds their IDs in publish order.
async function subscribeAndPublish(client, publisher, channel, n) {
  const { got, subscribed } = collect(client, channel);
  await client.connect();
  await waitFor(() => subscribed() === 1, 'subscribed');
  const sent = [];
  for (let i = 1; i <= n; i++) sent.push((await publisher.publish(channel, { i })).id);
  await waitFor(() => got.length === n, `the first ${n} messages`);
  return { got, subscribed, sent };
}

test('resume after the connection drops', async (t) => {
  const defer = deferrer(t);
  const srv = await startPushflo(defer);
  const proxy = await startProxy(defer, srv.url);
  const publisher = new PushFloServer({ secretKey: keys.secretKey, baseUrl: srv.url });
  const client = new PushFloClient({ publishKey: keys.publishKey, baseUrl: proxy.url, WebSocket, transports: ['websocket'], ...fast });
  defer(() => client.destroy());
  const states = [];
  client.onConnectionChange((s) => states.push(s));
  const { got, sent } = await subscribeAndPublish(client, publisher, 'resume:a', 2);

  // The network path fails and stays down while more is published.
  proxy.state.blockWebSocket = true;
  proxy.dropAll();
  await waitFor(() => client.isReconnecting, 'reconnecting');
  assert.notEqual(client.connectionState, 'connected');
  for (let i = 3; i <= 5; i++) sent.push((await publisher.publish('resume:a', { i })).id);
  await waitFor(() => proxy.state.wsRefused > 0, 'a refused reconnect attempt');

  proxy.state.blockWebSocket = false;
  await waitFor(() => got.length === 5, 'messages published while away, by resume');
  sent.push((await publisher.publish('resume:a', { i: 6 })).id);
  await waitFor(() => got.length === 6, 'live after resume');
  assert.deepEqual(got.map((m) => m.id), sent);
  assert.deepEqual(got.map((m) => m.content.i), [1, 2, 3, 4, 5, 6]);
  assert.ok(states.includes('disconnected'), `states: ${states}`);
  assert.equal(client.isReconnecting, false);
  assert.equal(client.connectionState, 'connected');
});

test('resume after the server restarts', async (t) => {
  const defer = deferrer(t);
  const srv = await startPushflo(defer);
  const publisher = new PushFloServer({ secretKey: keys.secretKey, baseUrl: srv.url });
  const client = new PushFloClient({ publishKey: keys.publishKey, baseUrl: srv.url, WebSocket, transports: ['websocket'], ...fast });
  defer(() => client.destroy());
  const { got, subscribed, sent } = await subscribeAndPublish(client, publisher, 'resume:b', 3);

  await srv.restart('SIGKILL');
  for (let i = 4; i <= 6; i++) sent.push((await publisher.publish('resume:b', { i })).id);
  await waitFor(() => got.length >= 6, `all six after restart (server log: ${srv.logs().slice(-500)})`, 20000);
  await waitFor(() => subscribed() >= 2, 're-subscribed');
  sent.push((await publisher.publish('resume:b', { i: 7 })).id);
  await waitFor(() => got.length >= 7, 'live after restart');
  assert.deepEqual(got.map((m) => m.id), sent, 'every message once, in order');
});
