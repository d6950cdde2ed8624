// startPushflo runs the real server binary as a single node on loopback,
// waits for GET /ready, and stops it (SIGTERM, then SIGKILL) when the test
// ends, even if the test failed. Keys: pub_test, sec_test, mgmt_test.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverBinary } from './server-bin.mjs';
import { waitFor } from './wait.mjs';

// The server wants keys of at least 12 characters (13 for mgmt_).
export const keys = { publishKey: 'pub_sdkjs_test', secretKey: 'sec_sdkjs_test', mgmtKey: 'mgmt_sdkjs_test' };

const running = new Set();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function startPushflo(defer) {
  const bin = serverBinary();
  const dataDir = mkdtempSync(join(tmpdir(), 'pushflo-sdk-js-'));
  const httpPort = await freePort();
  const raftPort = await freePort();
  const url = `http://127.0.0.1:${httpPort}`;
  let proc;
  let output = '';

  async function start() {
    output = '';
    const args = [
      'serve',
      '--http-addr', `127.0.0.1:${httpPort}`,
      '--raft-addr', `127.0.0.1:${raftPort}`,
      '--data-dir', dataDir,
      '--node-id', 'n1',
      '--publish-key', keys.publishKey,
      '--secret-key', keys.secretKey,
      '--mgmt-key', keys.mgmtKey,
    ];
    const startedAt = Date.now();
    let warmed = false;
    const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    running.add(p);
    let exited = null;
    p.on('exit', (code, signal) => {
      running.delete(p);
      exited = { code, signal };
    });
    const keep = (d) => {
      output += d;
      if (output.length > 200000) output = output.slice(-100000);
    };
    p.stdout.on('data', keep);
    p.stderr.on('data', keep);
    try {
      const exitedEarly = new Promise((_, reject) =>
        p.once('exit', (code, signal) => reject(new Error(`pushflo exited before it was ready (code ${code}, signal ${signal})`))),
      );
      exitedEarly.catch(() => {});
      await Promise.race([
        exitedEarly,
        waitFor(async () => {
          if (exited) return true; // the race above has already failed
          const res = await fetch(`${url}/ready`);
          await res.arrayBuffer();
          if (res.status === 200) return true;
          // Workaround: the server reports a fresh, idle node as "catching
          // up" until its first write is applied, so after a few seconds one
          // message goes to a channel no test reads (errors ignored).
          if (Date.now() - startedAt > 3000 && !warmed) {
            warmed = true;
            await fetch(`${url}/api/v1/channels/sdkjs-warmup/messages`, {
              method: 'POST',
              headers: { Authorization: `Bearer ${keys.secretKey}`, 'Content-Type': 'application/json' },
              body: JSON.stringify({ content: { warmup: true } }),
            }).then((r) => r.arrayBuffer(), () => {});
          }
          return false;
        }, `pushflo at ${url} to be ready`, 30000),
      ]);
      if (exited) throw new Error(`pushflo exited before it was ready (${JSON.stringify(exited)})`);
    } catch (err) {
      err.message += `\n--- pushflo output ---\n${output.slice(-4000)}`;
      throw err;
    }
  }

  async function stop(signal = 'SIGTERM') {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    const timer = setTimeout(() => p.kill('SIGKILL'), 10000);
    await gone;
    clearTimeout(timer);
  }

  defer(() => rmSync(dataDir, { recursive: true, force: true }));
  defer(() => stop());
  await start();
  return {
    url,
    dataDir,
    /** logs returns the server's recent output, for failure messages. */
    logs: () => output.slice(-4000),
    stop,
    /** restart stops the process (SIGKILL by default) and starts it again on the same ports and data dir. */
    async restart(signal = 'SIGKILL') {
      await stop(signal);
      await start();
    },
  };
}
