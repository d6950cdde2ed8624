// A small in-process stand-in for the pushflo server, speaking the parts of
// protocol.md the client uses (WebSocket frames and SSE), for unit tests
// that need to control faults exactly: refuse WebSocket upgrades, drop every
// connection, replay overlapping messages, reject a token. The real server
// is exercised by test/integration.
import http from 'node:http';
import { WebSocketServer } from 'ws';

export async function startFakeServer(opts = {}) {
  const state = {
    refuseWebSocket: false,
    /** When set, a resume replays from this many messages before the asked ID (overlap). */
    replayOverlap: 0,
    /** When set, the next resume on this channel gets a gap frame first. */
    gapOnResume: null,
    /** Every frame clients sent, parsed. */
    frames: [],
    /** Every SSE request URL. */
    sseRequests: [],
    wsUpgrades: 0,
    validToken: opts.token ?? 'pub_test',
    /** More tokens accepted beside validToken (connection tokens). */
    validTokens: new Set(),
    /** Tokens refused with TOKEN_EXPIRED. */
    expiredTokens: new Set(),
    /** The token of every WebSocket upgrade, in order. */
    wsTokens: [],
    /** The frames parameter of every WebSocket upgrade, in order. */
    wsFrames: [],
  };
  const accepted = (tok) => (tok === state.validToken || state.validTokens.has(tok)) && !state.expiredTokens.has(tok);
  const log = new Map(); // channel -> [{id, ...}]
  const wsClients = new Set();
  const sseClients = new Set();
  let seq = 0;
  let clientSeq = 0;

  const wss = new WebSocketServer({ noServer: true });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname !== '/sse') {
      res.writeHead(404).end();
      return;
    }
    state.sseRequests.push(req.url);
    if (!accepted(url.searchParams.get('token'))) {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ success: false, error: 'unknown key', code: 'UNAUTHORIZED' }));
      return;
    }
    const channels = url.searchParams.getAll('channel');
    if (channels.some((c) => c.startsWith('private-'))) {
      res.writeHead(403, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ success: false, error: 'private channel', code: 'FORBIDDEN' }));
      return;
    }
    const after = url.searchParams.get('lastEventId') ?? req.headers['last-event-id'];
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
    res.write(': hello\n\n');
    const client = { res, channels: new Set(channels) };
    for (const ch of channels) {
      if (after !== undefined) for (const m of replay(ch, after)) writeSSE(res, m);
    }
    sseClients.add(client);
    req.on('close', () => sseClients.delete(client));
  });

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname !== '/ws' || state.refuseWebSocket) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    state.wsUpgrades++;
    wss.handleUpgrade(req, socket, head, (ws) => {
      const token = url.searchParams.get('token');
      state.wsTokens.push(token);
      state.wsFrames.push(url.searchParams.get('frames'));
      if (!accepted(token)) {
        const expired = state.expiredTokens.has(token);
        ws.send(JSON.stringify({ type: 'error', code: expired ? 'TOKEN_EXPIRED' : 'UNAUTHORIZED', error: expired ? 'token expired' : 'unknown key' }));
        ws.close(4001, expired ? 'token expired' : 'unauthorized');
        return;
      }
      const client = { ws, channels: new Set(), token };
      wsClients.add(client);
      ws.on('close', () => wsClients.delete(client));
      ws.send(JSON.stringify({ type: 'connected', clientId: `c${++clientSeq}`, timestamp: Date.now() }));
      ws.on('message', (raw) => {
        let f;
        try {
          f = JSON.parse(String(raw));
        } catch {
          ws.send(JSON.stringify({ type: 'error', code: 'VALIDATION_ERROR', error: 'not JSON' }));
          return;
        }
        state.frames.push(f);
        if (f.type === 'ping') ws.send(JSON.stringify({ type: 'pong', timestamp: Date.now() }));
        if (f.type === 'unsubscribe') {
          client.channels.delete(f.channel);
          ws.send(JSON.stringify({ type: 'unsubscribed', channel: f.channel }));
        }
        if (f.type === 'subscribe') {
          if (f.channel.startsWith('private-')) {
            ws.send(JSON.stringify({ type: 'error', channel: f.channel, code: 'FORBIDDEN', error: 'private channel' }));
            return;
          }
          const resumed = f.lastMessageId !== undefined;
          const sub = { type: 'subscribed', channel: f.channel };
          if (resumed) sub.recovered = true;
          ws.send(JSON.stringify(sub));
          if (resumed) {
            if (state.gapOnResume === f.channel) {
              state.gapOnResume = null;
              ws.send(JSON.stringify({ type: 'gap', channel: f.channel, after: f.lastMessageId, before: 'zzz', reason: 'retention' }));
            }
            for (const m of replay(f.channel, f.lastMessageId)) ws.send(JSON.stringify(wsFrame(m)));
          }
          client.channels.add(f.channel);
        }
      });
    });
  });

  function replay(channel, after) {
    const msgs = log.get(channel) ?? [];
    let i = msgs.findIndex((m) => m.id > after);
    if (i < 0) i = msgs.length;
    return msgs.slice(Math.max(0, i - state.replayOverlap));
  }

  function wsFrame(m) {
    return { type: 'message', channel: m.channel, messageId: m.id, eventType: m.eventType, clientId: m.clientId, data: m.content, timestamp: m.timestamp };
  }

  function writeSSE(res, m) {
    res.write(`id: ${m.id}\nevent: ${m.eventType}\ndata: ${JSON.stringify(m)}\n\n`);
  }

  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();

  return {
    state,
    url: `http://127.0.0.1:${port}`,
    /** publish appends a message and hands it to every subscriber of its channel. */
    publish(channel, content, eventType = 'message') {
      const ts = Date.now();
      const m = { id: String(++seq).padStart(8, '0'), channel, eventType, clientId: '', content, timestamp: ts, createdAt: new Date(ts).toISOString() };
      if (!log.has(channel)) log.set(channel, []);
      log.get(channel).push(m);
      for (const c of wsClients) if (c.channels.has(channel)) c.ws.send(JSON.stringify(wsFrame(m)));
      for (const c of sseClients) if (c.channels.has(channel)) writeSSE(c.res, m);
      return m;
    },
    /** expireToken refuses a token from now on and closes its WebSocket connections the way the server does at `exp`. */
    expireToken(token) {
      state.expiredTokens.add(token);
      for (const c of wsClients) {
        if (c.token !== token) continue;
        c.ws.send(JSON.stringify({ type: 'error', code: 'TOKEN_EXPIRED', error: 'token expired' }));
        c.ws.close(4001, 'token expired');
      }
    },
    wsClientTokens() {
      return [...wsClients].map((c) => c.token);
    },
    /** dropAll cuts every WebSocket and SSE connection without a clean close. */
    dropAll() {
      for (const c of wsClients) c.ws.terminate();
      for (const c of sseClients) c.res.destroy();
    },
    /** sseCloseWithError ends every SSE stream the way the server drops a slow consumer. */
    sseCloseWithError() {
      for (const c of sseClients) {
        c.res.write(`event: error\ndata: ${JSON.stringify({ type: 'error', code: 'SLOW_CONSUMER', error: 'fell behind' })}\n\n`);
        c.res.end();
        sseClients.delete(c);
      }
    },
    wsClientCount: () => wsClients.size,
    sseClientCount: () => sseClients.size,
    async close() {
      for (const c of wsClients) c.ws.terminate();
      for (const c of sseClients) c.res.destroy();
      wss.close();
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    },
  };
}
