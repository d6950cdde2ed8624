import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { AuthenticationError, ConnectionError, PushFloClient, ValidationError } from '../../dist/esm/index.js';
import { startFakeServer } from '../support/fake-server.mjs';
import { deferrer, waitFor } from '../support/wait.mjs';

// Fast timings so faults resolve quickly; nothing below asserts a duration.
const fast = { reconnectDelay: 20, maxReconnectDelay: 100, connectionTimeout: 2000, heartbeatInterval: 5000 };

async function setup(t, opts = {}) {
  const defer = deferrer(t);
  const server = await startFakeServer();
  defer(() => server.close());
  const client = new PushFloClient({ publishKey: 'pub_test', baseUrl: server.url, WebSocket, ...fast, ...opts });
  defer(() => client.destroy());
  const states = [];
  client.onConnectionChange((s) => states.push(s));
  return { server, client, states };
}

function collector(client, channel, extra = {}) {
  const got = [];
  const sub = client.subscribe(channel, { onMessage: (m) => got.push(m), ...extra });
  return { got, sub, ids: () => got.map((m) => m.id) };
}

test('PushFloClient_AsksForLeanFrames', async (t) => {
  // The SDK reads only a message frame's flat fields, so it asks the server
  // to leave out the nested copy (docs/protocol.md, frames=lean).
  const { server, client } = await setup(t);
  await client.connect();
  assert.deepEqual(server.state.wsFrames, ['lean']);
});

test('PushFloClient_SubscribeDelivers', async (t) => {
  const { server, client, states } = await setup(t);
  let subscribed = 0;
  const c = collector(client, 'orders:user-123', { onSubscribed: () => subscribed++ });
  await client.connect();
  assert.equal(client.connectionState, 'connected');
  assert.equal(client.transport, 'websocket');
  await waitFor(() => subscribed === 1, 'subscribed');
  const sent = server.publish('orders:user-123', { status: 'shipped' }, 'order-updated');
  server.publish('other', { ignored: true });
  await waitFor(() => c.got.length === 1, 'one message');
  const m = c.got[0];
  assert.equal(m.id, sent.id);
  assert.equal(m.channel, 'orders:user-123');
  assert.equal(m.eventType, 'order-updated');
  assert.deepEqual(m.content, { status: 'shipped' });
  assert.equal(typeof m.timestamp, 'number');
  assert.equal(typeof m.createdAt, 'string');
  assert.deepEqual(states.slice(0, 2), ['connecting', 'connected']);
  assert.deepEqual(server.state.frames.filter((f) => f.type === 'subscribe'), [{ type: 'subscribe', channel: 'orders:user-123' }]);
});

test('PushFloClient_ResumeAfterDrop', async (t) => {
  const { server, client, states } = await setup(t);
  const c = collector(client, 'ch');
  await client.connect();
  await waitFor(() => server.state.frames.some((f) => f.type === 'subscribe'), 'first subscribe');
  server.publish('ch', { n: 1 });
  server.publish('ch', { n: 2 });
  await waitFor(() => c.got.length === 2, 'two messages');

  // The server replays one message before the resume point too: the client must drop it.
  server.state.replayOverlap = 1;
  const reconnecting = [];
  client.on('reconnecting', (info) => reconnecting.push(info));
  server.dropAll();
  await waitFor(() => reconnecting.length > 0, 'reconnecting event');
  assert.ok(states.includes('disconnected'), `states ${states}`);
  // Published while the client is away: it must arrive by resume.
  server.publish('ch', { n: 3 });
  await waitFor(() => c.got.length === 3, 'resumed message');
  server.publish('ch', { n: 4 });
  await waitFor(() => c.got.length === 4, 'live message after resume');
  assert.deepEqual(c.got.map((m) => m.content.n), [1, 2, 3, 4]);
  const resub = server.state.frames.filter((f) => f.type === 'subscribe');
  assert.equal(resub.length, 2);
  assert.equal(resub[1].lastMessageId, c.got[1].id);
  assert.equal(client.getLastMessageId('ch'), c.got[3].id);
  assert.equal(client.connectionState, 'connected');
});

test('PushFloClient_SharedSubscription', async (t) => {
  const { server, client } = await setup(t);
  const a = collector(client, 'ch');
  const b = collector(client, 'ch');
  await client.connect();
  await waitFor(() => server.state.frames.some((f) => f.type === 'subscribe'), 'subscribe');
  server.publish('ch', { n: 1 });
  await waitFor(() => a.got.length === 1 && b.got.length === 1, 'both got it');
  a.sub.unsubscribe();
  server.publish('ch', { n: 2 });
  await waitFor(() => b.got.length === 2, 'second');
  assert.equal(a.got.length, 1);
  assert.equal(server.state.frames.filter((f) => f.type === 'subscribe').length, 1);
  assert.equal(server.state.frames.filter((f) => f.type === 'unsubscribe').length, 0);
  b.sub.unsubscribe();
  await waitFor(() => server.state.frames.some((f) => f.type === 'unsubscribe'), 'unsubscribe frame');
  assert.deepEqual(client.getSubscribedChannels(), []);
});

test('PushFloClient_ChannelErrorAndGap', async (t) => {
  const { server, client } = await setup(t);
  const errors = [];
  const gaps = [];
  client.subscribe('private-x', { onError: (e) => errors.push(e) });
  const c = collector(client, 'ch', { onGap: (g) => gaps.push(g) });
  await client.connect();
  await waitFor(() => errors.length === 1, 'channel error');
  assert.equal(errors[0].code, 'FORBIDDEN');
  assert.equal(errors[0].channel, 'private-x');
  assert.ok(errors[0] instanceof AuthenticationError);
  assert.equal(client.connectionState, 'connected');

  await waitFor(() => server.state.frames.some((f) => f.type === 'subscribe' && f.channel === 'ch'), 'subscribe ch');
  server.publish('ch', { n: 1 });
  await waitFor(() => c.got.length === 1, 'message');
  server.state.gapOnResume = 'ch';
  server.dropAll();
  await waitFor(() => gaps.length === 1, 'gap');
  assert.equal(gaps[0].channel, 'ch');
  assert.equal(gaps[0].after, c.got[0].id);
  assert.equal(gaps[0].reason, 'retention');
});

test('PushFloClient_FallbackToSSEAndBack', async (t) => {
  const { server, client } = await setup(t, { sseFallbackAfter: 2, websocketRetryInterval: 100, connectWaitsForRetries: true });
  server.state.refuseWebSocket = true;
  const transports = [];
  client.on('transportChange', (k) => transports.push(k));
  const c = collector(client, 'ch');
  await client.connect();
  assert.equal(client.transport, 'sse');
  await waitFor(() => server.sseClientCount() === 1, 'sse stream');
  server.publish('ch', { n: 1 }, 'custom-type');
  await waitFor(() => c.got.length === 1, 'message over SSE');
  assert.equal(c.got[0].eventType, 'custom-type');
  assert.deepEqual(c.got[0].content, { n: 1 });

  // An SSE drop resumes from the last ID too.
  server.dropAll();
  server.publish('ch', { n: 2 });
  await waitFor(() => c.got.length === 2, 'resumed over SSE');
  assert.ok(server.state.sseRequests.some((u) => u.includes(`lastEventId=${c.got[0].id}`)), 'sse resume used lastEventId');

  // WebSocket works again: the probe moves the client back.
  server.state.refuseWebSocket = false;
  await waitFor(() => client.transport === 'websocket' && server.wsClientCount() === 1, 'back on websocket');
  await waitFor(() => server.sseClientCount() === 0, 'sse stream closed');
  server.publish('ch', { n: 3 });
  await waitFor(() => c.got.length === 3, 'message over websocket');
  assert.deepEqual(c.got.map((m) => m.content.n), [1, 2, 3]);
  assert.deepEqual(transports, ['websocket']);
  const resub = server.state.frames.filter((f) => f.type === 'subscribe');
  assert.equal(resub.at(-1).lastMessageId, c.got[1].id);
});

test('PushFloClient_SSEOnly', async (t) => {
  const { server, client } = await setup(t, { transports: ['sse'] });
  const c = collector(client, 'a');
  await client.connect();
  assert.equal(client.transport, 'sse');
  assert.equal(server.state.wsUpgrades, 0);
  await waitFor(() => server.sseClientCount() === 1, 'stream');
  server.publish('a', { ok: true });
  await waitFor(() => c.got.length === 1, 'message');
});

test('PushFloClient_SSEServerErrorThenResume', async (t) => {
  const { server, client } = await setup(t, { transports: ['sse'] });
  const errors = [];
  client.on('error', (e) => errors.push(e));
  const c = collector(client, 'a');
  await client.connect();
  await waitFor(() => server.sseClientCount() === 1, 'stream');
  server.publish('a', { n: 1 });
  await waitFor(() => c.got.length === 1, 'first');
  server.sseCloseWithError();
  server.publish('a', { n: 2 });
  await waitFor(() => c.got.length === 2, 'resumed');
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, 'SLOW_CONSUMER');
  assert.deepEqual(c.got.map((m) => m.content.n), [1, 2]);
});

test('PushFloClient_RejectedKeyIsFatal', async (t) => {
  const server = await startFakeServer();
  t.after(() => server.close());
  const client = new PushFloClient({ publishKey: 'pub_wrong', baseUrl: server.url, WebSocket, autoConnect: false, ...fast });
  t.after(() => client.destroy());
  const errors = [];
  client.on('error', (e) => errors.push(e));
  await assert.rejects(client.connect(), AuthenticationError);
  assert.equal(client.connectionState, 'error');
  assert.equal(server.state.wsUpgrades, 1);
  assert.equal(errors.length, 1);
});

test('PushFloClient_GivesUpAfterMaxAttempts', async (t) => {
  const server = await startFakeServer();
  server.state.refuseWebSocket = true;
  t.after(() => server.close());
  const client = new PushFloClient({
    publishKey: 'pub_test',
    baseUrl: server.url,
    WebSocket,
    autoConnect: false,
    transports: ['websocket'],
    maxReconnectAttempts: 2,
    connectWaitsForRetries: true,
    ...fast,
  });
  t.after(() => client.destroy());
  await assert.rejects(client.connect(), (err) => {
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.code, 'MAX_RECONNECT_ATTEMPTS');
    assert.equal(err.retryable, false);
    return true;
  });
  assert.equal(client.connectionState, 'error');
  assert.equal(server.state.wsUpgrades, 0);
});

test('PushFloClient_DisconnectAndReconnectKeepsPlace', async (t) => {
  const { server, client } = await setup(t, { autoConnect: false });
  const c = collector(client, 'ch');
  await client.connect();
  await waitFor(() => server.state.frames.some((f) => f.type === 'subscribe'), 'subscribe');
  server.publish('ch', { n: 1 });
  await waitFor(() => c.got.length === 1, 'first');
  client.disconnect();
  assert.equal(client.connectionState, 'disconnected');
  server.publish('ch', { n: 2 });
  await client.connect();
  await waitFor(() => c.got.length === 2, 'missed message after reconnect');
  assert.deepEqual(c.got.map((m) => m.content.n), [1, 2]);
});

test('PushFloClient_ResumeFromSavedId', async (t) => {
  const { server, client } = await setup(t, { autoConnect: false });
  const first = server.publish('ch', { n: 1 });
  server.publish('ch', { n: 2 });
  const c = collector(client, 'ch', { lastMessageId: first.id });
  await client.connect();
  await waitFor(() => c.got.length === 1, 'replayed');
  assert.deepEqual(c.got[0].content, { n: 2 });
});

test('PushFloClient_OptionsValidation', () => {
  assert.throws(() => new PushFloClient({}), (err) => {
    assert.ok(err instanceof AuthenticationError);
    assert.equal(err.code, 'MISSING_PUBLISH_KEY');
    return true;
  });
  assert.throws(
    () => new PushFloClient({ publishKey: 'pub_x', baseUrl: 'ftp://x', transports: ['carrier-pigeon'], reconnectDelay: -1 }),
    (err) => {
      assert.ok(err instanceof ValidationError);
      assert.match(err.message, /ftp:\/\/x.*transports.*reconnectDelay is -1/);
      assert.equal(err.field, 'baseUrl');
      return true;
    },
  );
  const c = new PushFloClient({ publishKey: 'pub_x', baseUrl: 'http://127.0.0.1:1', autoConnect: false });
  assert.throws(() => c.subscribe('bad channel!'), /contains " "/);
});

test('PushFloClient_NoWebSocketFallsBack', async (t) => {
  // Node 20 has no global WebSocket: without the option the client cannot use it and says so.
  if (globalThis.WebSocket) {
    t.skip('this Node has a global WebSocket');
    return;
  }
  const server = await startFakeServer();
  t.after(() => server.close());
  const client = new PushFloClient({
    publishKey: 'pub_test',
    baseUrl: server.url,
    sseFallbackAfter: 1,
    websocketRetryInterval: 0,
    connectWaitsForRetries: true,
    ...fast,
  });
  t.after(() => client.destroy());
  await client.connect();
  assert.equal(client.transport, 'sse');
});

test('PushFloClient_LeavesNoTimersBehind', async (t) => {
  // Timers left running would keep a Node process alive after destroy(),
  // and a stray SSE idle timer would later cut a healthy connection.
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  for (const transports of [['websocket'], ['sse']]) {
    const server = await startFakeServer();
    const client = new PushFloClient({ publishKey: 'pub_test', baseUrl: server.url, WebSocket, transports, ...fast });
    const errors = [];
    client.subscribe('private-x', { onError: (e) => errors.push(e) });
    const c = collector(client, 'ch');
    await client.connect();
    await waitFor(() => errors.length === 1, `FORBIDDEN over ${transports[0]}`);
    await waitFor(() => (transports[0] === 'sse' ? server.sseClientCount() === 1 : server.state.frames.length >= 2), 'subscribed');
    server.publish('ch', { n: 1 });
    await waitFor(() => c.got.length === 1, 'message');
    client.destroy();
    await server.close();
  }
  await waitFor(() => timers() <= before, `no timers left (before ${before}, now ${timers()})`, 2000);
});
