// Run by TestTLS_Clients (tls_e2e_test.go): the TypeScript SDK in Node and a
// page in headless Chromium connect to a pushflo node serving TLS with a
// certificate from a test CA, over https:// and wss://.
//
// Node trusts the CA through NODE_EXTRA_CA_CERTS; Chromium through
// --ignore-certificate-errors-spki-list with the CA's and leaf's SPKI hashes.
// Environment: PUSHFLO_URL (https://127.0.0.1:port), PUSHFLO_PUB, PUSHFLO_SEC,
// SDK_DIR (sdk/js, built, test/node_modules installed), SPKI (comma-separated),
// CHROMIUM (path; the browser part is skipped when empty).
// Prints one "ok …" line per client and exits non-zero on any failure.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const { PUSHFLO_URL: url, PUSHFLO_PUB: pub, PUSHFLO_SEC: sec, SDK_DIR: sdkDir, SPKI: spki, CHROMIUM: chromiumPath } = process.env;
// The test tools (ws, playwright-core) live in sdk/js/test's own node_modules.
const require = createRequire(join(sdkDir, 'test', 'package.json'));
const WebSocket = require('ws');
const { PushFloClient } = await import(pathToFileURL(join(sdkDir, 'dist/esm/index.js')).href);
const { PushFloServer } = await import(pathToFileURL(join(sdkDir, 'dist/esm/server.js')).href);

function within(ms, what, p) {
  return Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms))]);
}

// The SDK in Node: publish over https, receive over wss.
{
  const publisher = new PushFloServer({ secretKey: sec, baseUrl: url });
  const client = new PushFloClient({ publishKey: pub, baseUrl: url, WebSocket, connectionTimeout: 10000 });
  const got = new Promise((resolve) => {
    let subscribed;
    const ready = new Promise((r) => (subscribed = r));
    client.subscribe('tls:node', { onMessage: resolve, onSubscribed: () => subscribed() });
    client.connect().then(() => ready).then(() => publisher.publish('tls:node', { from: 'node' }));
  });
  const msg = await within(20000, 'node sdk message over wss', got);
  client.destroy();
  console.log(`ok node-sdk transport=${client.transport ?? 'websocket'} message=${JSON.stringify(msg.content ?? msg.data ?? msg)}`);
}

// A page in headless Chromium, loaded over https, opens wss:// and an
// EventSource to the same origin and publishes with fetch.
if (chromiumPath) {
  const { chromium } = require('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'pushflo-tls-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', `--ignore-certificate-errors-spki-list=${spki}`],
  });
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    const resp = await page.goto(`${url}/health`);
    if (!resp.ok()) throw new Error(`GET /health over https: ${resp.status()}`);
    const secInfo = await resp.securityDetails();
    const result = await within(20000, 'browser wss and sse', page.evaluate(async ({ pub, sec }) => {
      const origin = location.origin;
      const wsUrl = origin.replace(/^https/, 'wss') + `/ws?token=${encodeURIComponent(pub)}`;
      const ws = new WebSocket(wsUrl);
      const frames = [];
      const wsMessage = new Promise((resolve, reject) => {
        ws.onerror = () => reject(new Error('websocket error'));
        ws.onmessage = (e) => {
          const f = JSON.parse(e.data);
          frames.push(f.type);
          if (f.type === 'connected') ws.send(JSON.stringify({ type: 'subscribe', channel: 'tls:browser' }));
          if (f.type === 'message') resolve(f);
        };
      });
      const subscribed = new Promise((resolve) => {
        const t = setInterval(() => frames.includes('subscribed') && (clearInterval(t), resolve()), 20);
      });
      const es = new EventSource(`${origin}/sse?channel=tls:browser&token=${encodeURIComponent(pub)}`);
      const sseOpen = new Promise((resolve, reject) => {
        es.onopen = resolve;
        es.onerror = () => reject(new Error('eventsource error'));
      });
      const sseMessage = new Promise((resolve) => es.addEventListener('message', (e) => resolve(e.data)));
      await subscribed;
      await sseOpen;
      const r = await fetch(`${origin}/api/v1/channels/tls:browser/messages`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${sec}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ content: { from: 'browser' } }),
      });
      if (r.status !== 201) throw new Error(`publish over https: ${r.status}`);
      const [m, s] = await Promise.all([wsMessage, sseMessage]);
      ws.close();
      es.close();
      return { ws: wsUrl.split('?')[0], wsType: m.type, sse: typeof s === 'string' && s.length > 0 };
    }, { pub, sec }));
    console.log(`ok chromium page=${url}/health protocol=${secInfo?.protocol} issuer=${JSON.stringify(secInfo?.issuer)} ws=${result.ws} frame=${result.wsType} sse=${result.sse}`);
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
