// The React hook against the real server: a component rendered with
// react-dom in jsdom shows a message published over REST.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { PushFloServer } from '../../dist/esm/server.js';
import { installDom } from '../support/dom.mjs';
import { keys, startPushflo } from '../support/pushflo.mjs';
import { deferrer, waitFor } from '../support/wait.mjs';

test('useChannel renders a published message', async (t) => {
  const defer = deferrer(t);
  const srv = await startPushflo(defer);
  const dom = installDom();
  defer(() => dom.cleanup());
  const { createElement: h } = await import('react');
  const { createRoot } = await import('react-dom/client');
  const { PushFloProvider, useChannel } = await import('../../dist/esm/react.js');

  function Orders() {
    const { messages, isSubscribed, connectionState } = useChannel('orders:user-123');
    return h(
      'section',
      { 'data-ready': String(isSubscribed && connectionState === 'connected') },
      messages.map((m) => h('p', { key: m.id, className: 'order' }, `${m.eventType}: ${m.content.status}`)),
    );
  }
  const root = createRoot(dom.root);
  defer(() => root.unmount());
  root.render(h(PushFloProvider, { publishKey: keys.publishKey, baseUrl: srv.url, WebSocket, reconnectDelay: 50 }, h(Orders)));
  await waitFor(() => dom.root.querySelector('section')?.dataset.ready === 'true', 'subscribed');

  const publisher = new PushFloServer({ secretKey: keys.secretKey, baseUrl: srv.url });
  await publisher.publish('orders:user-123', { status: 'shipped' }, { eventType: 'order-updated' });
  await waitFor(() => dom.root.querySelectorAll('.order').length === 1, 'rendered message');
  assert.equal(dom.root.querySelector('.order').textContent, 'order-updated: shipped');
});
