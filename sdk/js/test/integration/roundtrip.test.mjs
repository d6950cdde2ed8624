// The SDK against the real server binary: publish over REST with
// PushFloServer, receive with PushFloClient over WebSocket and over SSE,
// read history back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { PushFloClient } from '../../dist/esm/index.js';
import { AuthenticationError, PushFloServer } from '../../dist/esm/server.js';
import { collect } from '../support/collect.mjs';
import { keys, startPushflo } from '../support/pushflo.mjs';
import { deferrer, waitFor } from '../support/wait.mjs';

const fast = { reconnectDelay: 50, maxReconnectDelay: 500, connectionTimeout: 5000 };

test('SDK round trip against pushflo', async (t) => {
  const defer = deferrer(t);
  const srv = await startPushflo(defer);
  const publisher = new PushFloServer({ secretKey: keys.secretKey, baseUrl: srv.url });

  await t.test('websocket subscribe, REST publish', async (t) => {
    const defer = deferrer(t);
    const client = new PushFloClient({ publishKey: keys.publishKey, baseUrl: srv.url, WebSocket, ...fast });
    defer(() => client.destroy());
    const { got, subscribed } = collect(client, 'orders:user-123');
    await client.connect();
    assert.equal(client.transport, 'websocket');
    assert.ok(client.clientId, 'the connected frame carries a clientId');
    await waitFor(() => subscribed() > 0, 'subscribed');
    const res = await publisher.publish('orders:user-123', { orderId: 'o-1', status: 'shipped' }, { eventType: 'order-updated' });
    assert.equal(typeof res.id, 'string');
    assert.equal(res.channelSlug, 'orders:user-123');
    assert.equal(res.eventType, 'order-updated');
    await waitFor(() => got.length === 1, 'the message over websocket');
    assert.equal(got[0].id, res.id);
    assert.equal(got[0].channel, 'orders:user-123');
    assert.equal(got[0].eventType, 'order-updated');
    assert.deepEqual(got[0].content, { orderId: 'o-1', status: 'shipped' });
    assert.equal(typeof got[0].timestamp, 'number');
  });

  await t.test('sse subscribe, REST publish', async (t) => {
    const defer = deferrer(t);
    const client = new PushFloClient({ publishKey: keys.publishKey, baseUrl: srv.url, transports: ['sse'], ...fast });
    defer(() => client.destroy());
    const { got, subscribed } = collect(client, 'chat:room-42');
    await client.connect();
    assert.equal(client.transport, 'sse');
    await waitFor(() => subscribed() > 0, 'sse stream open');
    const a = await publisher.publish('chat:room-42', { text: 'hello' });
    const b = await publisher.publish('chat:room-42', { text: 'again' }, { eventType: 'chat-message' });
    await waitFor(() => got.length === 2, 'two messages over sse');
    assert.deepEqual(got.map((m) => m.id), [a.id, b.id]);
    assert.deepEqual(got.map((m) => m.eventType), ['message', 'chat-message']);
    assert.deepEqual(got[1].content, { text: 'again' });
  });

  await t.test('history and since', async () => {
    const ch = 'history:test';
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await publisher.publish(ch, { i }, { eventType: 'tick' })).id);
    const h = await publisher.getMessageHistory(ch, { pageSize: 2 });
    assert.deepEqual(h.messages.map((m) => m.id), [ids[2], ids[1]], 'newest first');
    assert.equal(h.pagination.total, 3);
    assert.equal(h.pagination.totalPages, 2);
    assert.deepEqual(h.messages[0].content, { i: 2 });
    assert.equal(h.messages[0].channel, ch);
    const since = await publisher.getMessagesSince(ch, ids[0]);
    assert.deepEqual(since.items.map((m) => m.id), [ids[1], ids[2]], 'oldest first after the id');
    assert.equal(since.complete, true);
  });

  await t.test('idempotent publish', async () => {
    const a = await publisher.publish('idem', { n: 1 }, { idempotencyKey: 'k-1' });
    const b = await publisher.publish('idem', { n: 1 }, { idempotencyKey: 'k-1' });
    assert.equal(a.id, b.id);
    const h = await publisher.getMessageHistory('idem');
    assert.equal(h.pagination.total, 1);
  });

  await t.test('channel management, private channel and connection token', async (t) => {
    const defer = deferrer(t);
    const mgmt = new PushFloServer({ secretKey: keys.mgmtKey, baseUrl: srv.url });
    const created = await mgmt.createChannel({ name: 'Private room', slug: 'private-room', description: 'staff only', isPrivate: true });
    assert.equal(created.slug, 'private-room');
    assert.equal(created.isPrivate, true);
    await assert.rejects(mgmt.createChannel({ name: 'Private room', slug: 'private-room' }), (e) => e.code === 'CONFLICT');
    const patched = await mgmt.updateChannel('private-room', { description: 'staff and guests' });
    assert.equal(patched.description, 'staff and guests');
    assert.equal((await publisher.getChannel('private-room')).name, 'Private room');
    const list = await publisher.listChannels({ pageSize: 100 });
    assert.ok(list.items.some((c) => c.slug === 'private-room'));

    // A bare publish key may not read it, over either transport.
    for (const transports of [['websocket'], ['sse']]) {
      const c = new PushFloClient({ publishKey: keys.publishKey, baseUrl: srv.url, WebSocket, transports, ...fast });
      defer(() => c.destroy());
      const errors = [];
      c.subscribe('private-room', { onError: (e) => errors.push(e) });
      await c.connect();
      await waitFor(() => errors.length > 0, `FORBIDDEN over ${transports[0]}`);
      assert.equal(errors[0].code, 'FORBIDDEN');
      assert.equal(errors[0].channel, 'private-room');
    }

    // A token that grants it may.
    const tok = await publisher.createToken({ publishKey: keys.publishKey, channels: ['private-room'], ttl: 300 });
    assert.equal(typeof tok.token, 'string');
    const c = new PushFloClient({ publishKey: tok.token, baseUrl: srv.url, WebSocket, ...fast });
    defer(() => c.destroy());
    const { got, subscribed } = collect(c, 'private-room');
    await c.connect();
    await waitFor(() => subscribed() > 0, 'subscribed with a token');
    const sent = await publisher.publish('private-room', { secret: 42 });
    await waitFor(() => got.length === 1, 'private message');
    assert.equal(got[0].id, sent.id);

    await mgmt.deleteChannel('private-room');
    await assert.rejects(publisher.getChannel('private-room'), (e) => e.code === 'NOT_FOUND');
  });

  await t.test('wrong key', async (t) => {
    const defer = deferrer(t);
    const client = new PushFloClient({ publishKey: 'pub_wrong', baseUrl: srv.url, WebSocket, autoConnect: false, ...fast });
    defer(() => client.destroy());
    await assert.rejects(client.connect(), (e) => e.code === 'UNAUTHORIZED');
    assert.equal(client.connectionState, 'error');
    assert.throws(() => new PushFloServer({ secretKey: keys.publishKey, baseUrl: srv.url }), (e) => e.code === 'INVALID_API_KEY');
    const bad = new PushFloServer({ secretKey: 'sec_not_a_known_key', baseUrl: srv.url, retryAttempts: 0 });
    await assert.rejects(bad.publish('x', {}), (e) => e instanceof AuthenticationError && e.status === 401 && e.code === 'UNAUTHORIZED');
  });
});
