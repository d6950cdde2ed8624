import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { AuthenticationError, NetworkError, NotFoundError, PushFloServer, ValidationError } from '../../dist/esm/server.js';

// A recording HTTP server: `answer(req, body, n)` decides each response.
async function recorder(t, answer) {
  const seen = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: body ? JSON.parse(body) : undefined });
      const [status, out, headers = {}] = answer(req, seen.length);
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(out === undefined ? '' : JSON.stringify(out));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  return { seen, url: `http://127.0.0.1:${server.address().port}` };
}

const published = { id: '0001', channelSlug: 'orders:user-1', eventType: 'order-updated', clientId: '', delivered: 2, createdAt: '2026-11-28T23:14:15.123Z' };

test('PushFloServer_Publish', async (t) => {
  const r = await recorder(t, () => [201, { success: true, data: published }]);
  const s = new PushFloServer({ secretKey: 'sec_test', baseUrl: r.url + '/' });
  const got = await s.publish('orders:user-1', { status: 'shipped' }, { eventType: 'order-updated' });
  assert.deepEqual(got, published);
  const req = r.seen[0];
  assert.equal(req.method, 'POST');
  assert.equal(req.url, '/api/v1/channels/orders%3Auser-1/messages');
  assert.equal(req.headers.authorization, 'Bearer sec_test');
  assert.equal(req.headers['content-type'], 'application/json');
  assert.ok(req.headers['idempotency-key'], 'an idempotency key is sent');
  assert.deepEqual(req.body, { content: { status: 'shipped' }, eventType: 'order-updated' });
});

test('PushFloServer_PublishRetriesWithSameKey', async (t) => {
  const r = await recorder(t, (_req, n) => (n < 3 ? [503, { success: false, error: 'no leader', code: 'UNAVAILABLE' }] : [201, { success: true, data: published }]));
  const s = new PushFloServer({ secretKey: 'sec_test', baseUrl: r.url, retryDelay: 1 });
  await s.publish('c', { a: 1 });
  assert.equal(r.seen.length, 3);
  const keys = new Set(r.seen.map((x) => x.headers['idempotency-key']));
  assert.equal(keys.size, 1, 'every retry carries the same Idempotency-Key');
});

test('PushFloServer_Errors', async (t) => {
  // The error classes and fields of @pushflodev/sdk: 401/403 AuthenticationError,
  // every other status a NetworkError with statusCode (404 a NotFoundError, which is one).
  const r = await recorder(t, (req) => {
    if (req.url.startsWith('/api/v1/channels/secret')) return [403, { success: false, error: 'publish needs a secret key', code: 'FORBIDDEN' }];
    if (req.url.startsWith('/api/v1/channels/big')) return [413, { success: false, error: 'message is 40000 bytes; at most 32768 are allowed', code: 'PAYLOAD_TOO_LARGE' }];
    if (req.url.startsWith('/api/v1/channels/bad')) return [400, { success: false, error: 'eventType is empty', code: 'VALIDATION_ERROR' }];
    return [404, { success: false, error: 'no such channel', code: 'NOT_FOUND' }];
  });
  const s = new PushFloServer({ secretKey: 'sec_wrong', baseUrl: r.url, retryDelay: 1 });
  await assert.rejects(s.publish('secret', {}), (e) => e instanceof AuthenticationError && e.code === 'FORBIDDEN' && e.retryable === false);
  await assert.rejects(s.publish('big', {}), (e) => {
    assert.ok(e instanceof NetworkError);
    assert.equal(e.statusCode, 413);
    assert.equal(e.code, 'PAYLOAD_TOO_LARGE');
    assert.equal(e.retryable, false);
    assert.match(e.message, /32768/);
    return true;
  });
  await assert.rejects(s.publish('bad', {}), (e) => e instanceof NetworkError && e.statusCode === 400 && e.code === 'VALIDATION_ERROR');
  await assert.rejects(s.getChannel('nope'), (e) => {
    assert.ok(e instanceof NetworkError && e instanceof NotFoundError);
    assert.equal(e.statusCode, 404);
    assert.equal(e.code, 'NOT_FOUND');
    assert.equal(e.toJSON().statusCode, 404);
    return true;
  });
  await assert.rejects(s.publish('bad channel', {}), (e) => e instanceof ValidationError && e.field === 'channel');
  await assert.rejects(s.publish('ok', [1, 2]), /content must be a JSON object, got an array/);
  assert.equal(r.seen.length, 4, 'client-side validation sends nothing; 4xx is not retried');
});

test('PushFloServer_UnavailableMovesToAnotherNode', async (t) => {
  // 503 UNAVAILABLE says "not applied": the publish goes at once to the next base URL.
  const down = await recorder(t, () => [503, { success: false, error: 'no leader', code: 'UNAVAILABLE' }, { 'Retry-After': '1' }]);
  const up = await recorder(t, () => [201, { success: true, data: published }]);
  const s = new PushFloServer({ secretKey: 'sec_test', baseUrl: down.url, baseUrls: [up.url], retryDelay: 1 });
  const got = await s.publish('c', { a: 1 }, { idempotencyKey: 'k1' });
  assert.equal(got.id, published.id);
  assert.equal(down.seen.length, 1);
  assert.equal(up.seen.length, 1);
  assert.equal(up.seen[0].headers['idempotency-key'], 'k1');
  // The node that answered is tried first next time.
  await s.publish('c', { a: 2 });
  assert.equal(down.seen.length, 1);
  assert.equal(up.seen.length, 2);
});

test('PushFloServer_OutcomeUnknownRetriedOnlyWithKey', async (t) => {
  const r = await recorder(t, (_req, n) =>
    n % 2 === 1 ? [503, { success: false, error: 'leader changed', code: 'OUTCOME_UNKNOWN' }] : [201, { success: true, data: published }],
  );
  // With a key (the default gives every publish one) a retry is safe: the server answers the first result.
  const keyed = new PushFloServer({ secretKey: 'sec_test', baseUrl: r.url, retryDelay: 1 });
  await keyed.publish('c', { a: 1 });
  assert.equal(r.seen.length, 2);
  assert.equal(r.seen[0].headers['idempotency-key'], r.seen[1].headers['idempotency-key']);
  // Without one the SDK must not guess: it reports the unknown outcome.
  const bare = new PushFloServer({ secretKey: 'sec_test', baseUrl: r.url, retryDelay: 1, autoIdempotencyKey: false });
  await assert.rejects(bare.publish('c', { a: 2 }), (e) => {
    assert.ok(e instanceof NetworkError);
    assert.equal(e.code, 'OUTCOME_UNKNOWN');
    assert.equal(e.statusCode, 503);
    assert.equal(e.retryable, false);
    return true;
  });
  assert.equal(r.seen.length, 3);
  assert.equal(r.seen[2].headers['idempotency-key'], undefined);
  // ...but UNAVAILABLE (not applied) is retried even without a key.
  const r2 = await recorder(t, (_req, n) => (n === 1 ? [503, { success: false, error: 'no leader', code: 'UNAVAILABLE' }] : [201, { success: true, data: published }]));
  const bare2 = new PushFloServer({ secretKey: 'sec_test', baseUrl: r2.url, retryDelay: 1, autoIdempotencyKey: false });
  await bare2.publish('c', { a: 3 });
  assert.equal(r2.seen.length, 2);
});

test('PushFloServer_NetworkError', async () => {
  const s = new PushFloServer({ secretKey: 'sec_test', baseUrl: 'http://127.0.0.1:1', retryAttempts: 1, retryDelay: 1 });
  await assert.rejects(s.publish('c', {}), NetworkError);
});

test('PushFloServer_HistoryAndChannels', async (t) => {
  const page = { items: [{ id: '2' }, { id: '1' }], pagination: { page: 2, pageSize: 2, total: 4, totalPages: 2 } };
  const r = await recorder(t, (req) => {
    const u = new URL(req.url, 'http://x');
    if (u.pathname === '/api/v1/channels' && req.method === 'GET') {
      return [200, { success: true, data: [{ slug: 'a' }], pagination: { page: 1, pageSize: 25, total: 1, totalPages: 1 } }];
    }
    if (u.searchParams.has('since')) return [200, { success: true, data: { items: [{ id: '3' }], complete: false, gap: { channel: 'c', after: '1', before: '3', reason: 'retention' } } }];
    if (req.method === 'DELETE') return [204, undefined];
    if (u.pathname === '/api/v1/auth/token') return [200, { success: true, data: { token: 't', expiresAt: 'x', endpoint: 'e', clientId: 'u' } }];
    return [200, { success: true, data: page }];
  });
  const s = new PushFloServer({ secretKey: 'mgmt_test', baseUrl: r.url });
  const h = await s.getMessageHistory('c', { page: 2, pageSize: 2, eventType: 'x', after: 5 });
  assert.deepEqual(h.messages, page.items);
  assert.deepEqual(h.pagination, page.pagination);
  assert.equal(r.seen[0].url, '/api/v1/channels/c/messages?page=2&pageSize=2&eventType=x&after=5');
  const since = await s.getMessagesSince('c', '1', { limit: 10 });
  assert.equal(since.complete, false);
  assert.equal(since.gap.before, '3');
  assert.equal(r.seen[1].url, '/api/v1/channels/c/messages?since=1&limit=10');
  const list = await s.listChannels();
  assert.deepEqual(list.channels, [{ slug: 'a' }]);
  assert.equal(list.pagination.total, 1);
  await s.deleteChannel('a');
  const tok = await s.createToken({ publishKey: 'pub_test', channels: ['a'], ttl: 60 });
  assert.equal(tok.token, 't');
  assert.deepEqual(r.seen.at(-1).body, { publishKey: 'pub_test', channels: ['a'], ttl: 60 });
});

test('PushFloServer_OptionsValidation', () => {
  assert.throws(() => new PushFloServer({}), (e) => e instanceof AuthenticationError && e.code === 'MISSING_SECRET_KEY');
  assert.throws(() => new PushFloServer({ secretKey: 'pub_x' }), (e) => e instanceof AuthenticationError && e.code === 'INVALID_API_KEY');
  assert.throws(() => new PushFloServer({ secretKey: 'sec_x', baseUrl: 'ftp://x' }), (e) => e instanceof ValidationError && e.field === 'baseUrl');
  // baseUrl is optional, as in @pushflodev/sdk.
  new PushFloServer({ secretKey: 'sec_x' });
});
