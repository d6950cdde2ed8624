// startProxy is a reverse proxy in front of the server, standing in for a
// corporate proxy or load balancer: it can refuse WebSocket upgrades
// (`blockWebSocket`), cut every open connection (`dropAll`), and serve
// static files under given prefixes so a browser page and the server share
// one origin.
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { extname, join, normalize } from 'node:path';

const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json', '.map': 'application/json' };

export async function startProxy(defer, target, { statics = {} } = {}) {
  const t = new URL(target);
  const sockets = new Set();
  // cutSSE resets SSE requests (a network error, which a browser's
  // EventSource retries) where blockSSE answers 502 (which ends it);
  // lastEventIds records the Last-Event-ID header of each SSE request.
  const state = { blockWebSocket: false, blockSSE: false, cutSSE: false, wsUpgrades: 0, wsRefused: 0, sseRequests: 0, lastEventIds: [] };

  const server = http.createServer(async (req, res) => {
    for (const [prefix, dir] of Object.entries(statics)) {
      if (!req.url.startsWith(prefix)) continue;
      const rel = normalize(decodeURIComponent(req.url.slice(prefix.length).split('?')[0]));
      if (rel.startsWith('..')) break;
      try {
        const body = await readFile(join(dir, rel));
        res.writeHead(200, { 'Content-Type': types[extname(rel)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
        res.end(body);
      } catch {
        res.writeHead(404).end();
      }
      return;
    }
    if (req.url.startsWith('/sse')) {
      state.sseRequests++;
      state.lastEventIds.push(req.headers['last-event-id'] ?? null);
      if (state.cutSSE) {
        req.socket.destroy();
        return;
      }
      if (state.blockSSE) {
        res.writeHead(502).end();
        return;
      }
    }
    const up = http.request(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        res.writeHead(upRes.statusCode, upRes.headers);
        res.flushHeaders();
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  });

  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  server.on('upgrade', (req, socket, head) => {
    if (state.blockWebSocket) {
      state.wsRefused++;
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    state.wsUpgrades++;
    const up = net.connect(Number(t.port), t.hostname, () => {
      let headText = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (let i = 0; i < req.rawHeaders.length; i += 2) headText += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
      up.write(headText + '\r\n');
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    sockets.add(up);
    up.on('close', () => {
      sockets.delete(up);
      socket.destroy();
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
    socket.on('close', () => up.destroy());
  });

  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  const close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  };
  defer(close);
  return {
    url,
    state,
    /** dropAll cuts every connection through the proxy, as a failing middlebox would. */
    dropAll() {
      for (const s of sockets) s.destroy();
    },
    close,
  };
}
