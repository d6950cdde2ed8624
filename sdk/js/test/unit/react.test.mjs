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
