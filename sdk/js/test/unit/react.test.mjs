import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { installDom } from '../support/dom.mjs';
import { startFakeServer } from '../support/fake-server.mjs';
import { deferrer, waitFor } from '../support/wait.mjs';

test('useChannel renders messages and follows the connection', async (t) => {
  const defer = deferrer(t);
  const dom = installDom();
  defer(() => dom.cleanup());
  const server = await startFakeServer();
  defer(() => server.close());
  const { createElement: h } = await import('react');
  const { createRoot } = await import('react-dom/client');
  const { PushFloProvider, useChannel, usePushFlo } = await import('../../dist/esm/react.js');

  function Feed() {
    const { connectionState } = usePushFlo();
    const { messages, isSubscribed } = useChannel('orders:user-123', { eventType: 'order-updated' });
    return h(
      'div',
      null,
      h('p', { id: 'state' }, `${connectionState}/${isSubscribed ? 'subscribed' : 'not-subscribed'}`),
      h('ul', null, messages.map((m) => h('li', { key: m.id }, String(m.content.status)))),
    );
  }

  const root = createRoot(dom.root);
  defer(() => root.unmount());
  root.render(h(PushFloProvider, { publishKey: 'pub_test', baseUrl: server.url, WebSocket, reconnectDelay: 20 }, h(Feed)));
  const text = (sel) => dom.root.querySelector(sel)?.textContent;
  await waitFor(() => text('#state') === 'connected/subscribed', 'connected and subscribed');

  server.publish('orders:user-123', { status: 'paid' }, 'order-updated');
  server.publish('orders:user-123', { status: 'ignored' }, 'other-type');
  server.publish('orders:user-123', { status: 'shipped' }, 'order-updated');
  await waitFor(() => dom.root.querySelectorAll('li').length === 2, 'two items');
  assert.deepEqual([...dom.root.querySelectorAll('li')].map((li) => li.textContent), ['paid', 'shipped']);

  server.dropAll();
  server.publish('orders:user-123', { status: 'delivered' }, 'order-updated');
  await waitFor(() => dom.root.querySelectorAll('li').length === 3, 'resumed item');
  assert.deepEqual([...dom.root.querySelectorAll('li')].map((li) => li.textContent), ['paid', 'shipped', 'delivered']);
});

test('usePushFlo outside a provider says what is missing', async (t) => {
  const dom = installDom();
  t.after(() => dom.cleanup());
  const { createElement: h } = await import('react');
  const { renderToString } = await import('react-dom/server');
  const { usePushFlo } = await import('../../dist/esm/react.js');
  function Bad() {
    usePushFlo();
    return null;
  }
  assert.throws(() => renderToString(h(Bad)), /must be used within a PushFloProvider/);
});

test('React API of @pushflodev/sdk: usePushFlo, usePushFloContext, lastMessage null, rebuild on a new publishKey', async (t) => {
  const defer = deferrer(t);
  const dom = installDom();
  defer(() => dom.cleanup());
  const server = await startFakeServer({ token: 'pub_second' });
  defer(() => server.close());
  server.state.validTokens.add('pub_first');
  const { createElement: h } = await import('react');
  const { createRoot } = await import('react-dom/client');
  const { PushFloProvider, useChannel, usePushFlo, usePushFloContext } = await import('../../dist/esm/react.js');

  const seen = { results: [], got: [] };
  function Probe() {
    const r = usePushFlo();
    const ctx = usePushFloContext();
    const ch = useChannel('feed');
    seen.results.push({ keys: Object.keys(r).sort(), isConnecting: r.isConnecting, lastMessage: ch.lastMessage, client: ctx.client });
    seen.api = r;
    return h('p', { id: 'state' }, `${r.connectionState}/${ch.isSubscribed}/${ch.lastMessage ? ch.lastMessage.content.n : 'none'}`);
  }
  const root = createRoot(dom.root);
  defer(() => root.unmount());
  const text = () => dom.root.querySelector('#state')?.textContent;
  const render = (key) => root.render(h(PushFloProvider, { publishKey: key, baseUrl: server.url, WebSocket, reconnectDelay: 20 }, h(Probe)));
  render('pub_first');
  await waitFor(() => text() === 'connected/true/none', 'connected and subscribed');
  const first = seen.results[0];
  for (const k of ['connect', 'connectionState', 'disconnect', 'isConnected', 'isConnecting', 'subscribe', 'unsubscribe']) assert.ok(first.keys.includes(k), k);
  assert.equal(first.lastMessage, null, 'lastMessage is null before any message');
  assert.ok(seen.results.some((r) => r.isConnecting), 'isConnecting was true while connecting');

  // subscribe/unsubscribe from the hook work on the provider's client.
  const got = [];
  const sub = seen.api.subscribe('side', { onMessage: (m) => got.push(m) });
  assert.equal(sub.channel, 'side');
  await waitFor(() => server.state.frames.some((f) => f.type === 'subscribe' && f.channel === 'side'), 'side subscribed');
  server.publish('side', { n: 1 });
  await waitFor(() => got.length === 1, 'side message');
  seen.api.unsubscribe('side');
  await waitFor(() => server.state.frames.some((f) => f.type === 'unsubscribe' && f.channel === 'side'), 'side unsubscribed');
  server.publish('feed', { n: 7 });
  await waitFor(() => text() === 'connected/true/7', 'lastMessage');

  // A new publishKey builds a new client that connects with it.
  const oldClient = seen.results.at(-1).client;
  render('pub_second');
  await waitFor(() => server.state.wsTokens.at(-1) === 'pub_second', 'a connection with the new key');
  const newClient = seen.results.at(-1).client;
  assert.notEqual(newClient, oldClient);
  await waitFor(() => newClient.connectionState === 'connected' && text()?.startsWith('connected/true'), 'rebuilt client connected and subscribed');
  assert.equal(oldClient.connectionState, 'disconnected', 'the old client was disconnected');
});
