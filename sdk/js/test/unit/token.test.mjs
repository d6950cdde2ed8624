// getToken: the client fetches connection tokens itself — before the first
// connect, when the server closes a connection because its token expired
// (error frame TOKEN_EXPIRED, close 4001), and shortly before a token's
// `exp` — and resumes every channel after the switch, with no gap and no
// duplicate.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { AuthenticationError, PushFloClient } from '../../dist/esm/index.js';
import { collect } from '../support/collect.mjs';
import { startFakeServer } from '../support/fake-server.mjs';
import { deferrer, waitFor } from '../support/wait.mjs';

const fast = { reconnectDelay: 20, maxReconnectDelay: 100, connectionTimeout: 2000, heartbeatInterval: 5000 };

/** jwt makes a JWT-shaped token whose payload carries `exp` (seconds); the signature is not checked by the client. */
function jwt(expSeconds, tag) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ exp: expSeconds, sub: tag })}.sig-${tag}`;
}

async function setup(t, tokens, opts = {}) {
  const defer = deferrer(t);
  const server = await startFakeServer({ token: 'pub_unused' });
  defer(() => server.close());
  for (const tok of tokens) server.state.validTokens.add(tok);
  const handed = [];
  const client = new PushFloClient({
    publishKey: '',
    baseUrl: server.url,
    WebSocket,
    transports: ['websocket'],
    getToken: async () => {
      const tok = tokens[Math.min(handed.length, tokens.length - 1)];
      handed.push(tok);
      return tok;
    },
    ...fast,
    ...opts,
  });
  defer(() => client.destroy());
  const states = [];
  client.onConnectionChange((s) => states.push(s));
  const { got, subscribed } = collect(client, 'ch');
  return { server, client, handed, states, got, subscribed };
}

test('PushFloClient_TokenExpiredRefreshesAndResumes', async (t) => {
  const { server, client, handed, states, got, subscribed } = await setup(t, ['tok-1', 'tok-2']);
  await client.connect();
  assert.deepEqual(handed, ['tok-1'], 'an empty publishKey asks getToken before the first connect');
  await waitFor(() => subscribed() === 1, 'subscribed');
  server.publish('ch', { n: 1 });
  await waitFor(() => got.length === 1, 'first message');

  server.expireToken('tok-1');
  server.publish('ch', { n: 2 }); // published while the client is between tokens
  await waitFor(() => got.length === 2, 'resumed after the new token');
  server.publish('ch', { n: 3 });
  await waitFor(() => got.length === 3, 'live on the new token');
  assert.deepEqual(got.map((m) => m.content.n), [1, 2, 3]);
  assert.deepEqual(handed, ['tok-1', 'tok-2']);
  assert.deepEqual(server.wsClientTokens(), ['tok-2']);
  const resub = server.state.frames.filter((f) => f.type === 'subscribe');
  assert.equal(resub.at(-1).lastMessageId, got[0].id, 'the resubscribe resumes after the last message');
  assert.ok(!states.includes('error'), `an expired token is not an error when getToken can replace it (states ${states})`);
});

test('PushFloClient_TokenExpiredWithoutGetTokenIsFatal', async (t) => {
  const defer = deferrer(t);
  const server = await startFakeServer({ token: 'tok-only' });
  defer(() => server.close());
  const client = new PushFloClient({ publishKey: 'tok-only', baseUrl: server.url, WebSocket, transports: ['websocket'], ...fast });
  defer(() => client.destroy());
  const errors = [];
  client.on('error', (e) => errors.push(e));
  await client.connect();
  server.expireToken('tok-only');
  await waitFor(() => client.connectionState === 'error', 'gave up');
  assert.ok(errors.at(-1) instanceof AuthenticationError);
  assert.equal(errors.at(-1).code, 'TOKEN_EXPIRED');
  assert.equal(client.isReconnecting, false);
});

test('PushFloClient_TokenRefreshedBeforeExp', async (t) => {
  // The first token runs out in 3 s; the client switches to the second one
  // before that, opening the new connection before it closes the old one.
  const first = jwt(Math.floor(Date.now() / 1000) + 3, 'a');
  const second = jwt(Math.floor(Date.now() / 1000) + 3600, 'b');
  const { server, client, handed, got, subscribed } = await setup(t, [first, second], { tokenRefreshMargin: 2500 });
  let connectedEvents = 0;
  client.on('connected', () => connectedEvents++);
  await client.connect();
  await waitFor(() => subscribed() === 1, 'subscribed');
  server.publish('ch', { n: 1 });
  await waitFor(() => got.length === 1, 'first message');
  await waitFor(() => handed.length === 2 && server.wsClientTokens().join() === second, 'moved to the second token', 10000);
  server.publish('ch', { n: 2 });
  await waitFor(() => got.length === 2, 'message on the new connection');
  assert.deepEqual(got.map((m) => m.content.n), [1, 2]);
  assert.equal(client.connectionState, 'connected');
  assert.equal(connectedEvents, 2);
  assert.ok(!server.state.expiredTokens.size, 'the server never had to close an expired connection');
});
