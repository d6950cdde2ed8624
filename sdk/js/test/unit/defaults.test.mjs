// The defaults of @pushflodev/sdk v1.0.8's client, observed on a clock the
// test controls (node:test mock timers): autoConnect false, clientId null,
// the hosted base URL, a 30 s connection timeout after which connect()
// rejects with ConnectionError, and maxReconnectAttempts 0 meaning "never
// give up" while maxReconnectAttempts: n gives up after n.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionError, PushFloClient } from '../../dist/esm/index.js';

/** Silent is a WebSocket that never opens: only the connection timeout ends an attempt. */
function silentSockets() {
  const sockets = [];
  class Silent {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.onopen = this.onmessage = this.onerror = this.onclose = null;
      sockets.push(this);
    }
    send() {}
    close() {}
  }
  return { sockets, Silent };
}

const flush = () => new Promise((r) => setImmediate(r));

test('PushFloClient_OfficialDefaults', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const { sockets, Silent } = silentSockets();
  const client = new PushFloClient({ publishKey: 'pub_xxxxxxxxxxxxx', WebSocket: Silent, transports: ['websocket'] });
  t.after(() => client.destroy());
  assert.equal(client.clientId, null);
  await flush();
  assert.equal(sockets.length, 0, 'autoConnect is false: nothing happens until connect()');
  assert.equal(client.connectionState, 'disconnected');

  let outcome;
  client.connect().then(
    () => (outcome = 'resolved'),
    (e) => (outcome = e),
  );
  await flush();
  assert.equal(sockets.length, 1);
  assert.match(sockets[0].url, /^wss:\/\/api\.pushflo\.dev\/ws\?token=pub_xxxxxxxxxxxxx&frames=lean$/, 'the hosted base URL by default');
  assert.equal(client.connectionState, 'connecting');
  t.mock.timers.tick(29999);
  await flush();
  assert.equal(outcome, undefined, 'still waiting just before 30 s');
  t.mock.timers.tick(1);
  await flush();
  assert.ok(outcome instanceof ConnectionError, `connect() rejected with ${outcome}`);
  assert.equal(outcome.code, 'CONNECTION_TIMEOUT');
  assert.equal(outcome.retryable, true);
  assert.match(outcome.message, /30000ms/);
  assert.equal(client.connectionState, 'error');
  assert.equal(client.isReconnecting, true, 'autoReconnect goes on in the background');

  // maxReconnectAttempts defaults to 0, which means unlimited: 30 more failed attempts and it still tries.
  for (let i = 0; i < 100 && sockets.length < 31; i++) {
    t.mock.timers.tick(60000); // at most 30 s of backoff, then a 30 s attempt
    await flush();
  }
  assert.ok(sockets.length >= 31, `${sockets.length} attempts`);
  assert.equal(client.isReconnecting, true);
});

test('PushFloClient_MaxReconnectAttemptsGivesUp', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const { sockets, Silent } = silentSockets();
  const client = new PushFloClient({ publishKey: 'pub_x', baseUrl: 'http://127.0.0.1:1', WebSocket: Silent, transports: ['websocket'], maxReconnectAttempts: 2 });
  t.after(() => client.destroy());
  const errors = [];
  client.on('error', (e) => errors.push(e));
  client.connect().catch(() => {});
  for (let i = 0; i < 10; i++) {
    t.mock.timers.tick(60000);
    await flush();
  }
  assert.equal(sockets.length, 3, 'the first attempt and two reconnect attempts');
  assert.equal(client.connectionState, 'error');
  assert.equal(client.isReconnecting, false);
  assert.equal(errors.at(-1).code, 'MAX_RECONNECT_ATTEMPTS');
  // maxRetries (pushflo) is the "0 means never retry" count.
  const { sockets: s2, Silent: Silent2 } = silentSockets();
  const once = new PushFloClient({ publishKey: 'pub_x', baseUrl: 'http://127.0.0.1:1', WebSocket: Silent2, transports: ['websocket'], maxRetries: 0 });
  t.after(() => once.destroy());
  once.connect().catch(() => {});
  for (let i = 0; i < 5; i++) {
    t.mock.timers.tick(60000);
    await flush();
  }
  assert.equal(s2.length, 1);
  assert.equal(once.connectionState, 'error');
});
