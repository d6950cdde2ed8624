// Overview: the cluster's nodes and this node's metrics, refreshed live.
import { h, api, getKey, errorBox, fmtBytes, fmtDuration } from './util.js';

export const REFRESH_MS = 2000;

// parseMetrics reads Prometheus text into name → [{labels, value}].
export function parseMetrics(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[2]) for (const l of m[2].slice(1, -1).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    if (!out.has(m[1])) out.set(m[1], []);
    out.get(m[1]).push({ labels, value: Number(m[3]) });
  }
  return out;
}

const sum = (ms, name) => (ms.get(name) || []).reduce((a, s) => a + s.value, 0);
const one = (ms, name) => (ms.has(name) ? ms.get(name)[0].value : undefined);

// quantile estimates a quantile from the change of a histogram's buckets
// between two scrapes (the whole history when prev is absent).
function quantile(ms, prev, name, q) {
  const cur = (ms.get(name + '_bucket') || []).map((s) => [Number(s.labels.le), s.value]);
  const old = new Map(((prev && prev.get(name + '_bucket')) || []).map((s) => [Number(s.labels.le), s.value]));
  const b = cur.map(([le, v]) => [le, v - (old.get(le) || 0)]).sort((x, y) => x[0] - y[0]);
  const total = b.length ? b[b.length - 1][1] : 0;
  if (!total) return undefined;
  for (const [le, v] of b) if (v >= q * total) return le;
  return undefined;
}

const fmtLatency = (s) => (s === undefined ? '—' : s === Infinity ? '> 13 s' : s < 0.001 ? `≤ ${(s * 1e6).toFixed(0)} µs` : `≤ ${(s * 1000).toFixed(1)} ms`);

export function render(main) {
  const nodesBody = h('tbody');
  const stats = h('dl', { class: 'stats' });
  const err = errorBox();
  const updated = h('p', { class: 'muted', 'aria-live': 'off' });
  main.append(
    h('h1', {}, 'Overview'), err,
    h('section', { 'aria-labelledby': 'nodes-h' }, h('h2', { id: 'nodes-h' }, 'Nodes'),
      h('div', { class: 'scroll' }, h('table', { id: 'nodes' },
        h('thead', {}, h('tr', {}, ['Node', 'Role', 'Applied index', 'Lag', 'Ready', 'HTTP address'].map((t) => h('th', { scope: 'col' }, t)))),
        nodesBody))),
    h('section', { 'aria-labelledby': 'node-h' }, h('h2', { id: 'node-h' }, 'This node'), stats, updated));

  let prev = null, prevAt = 0, timer = 0, stopped = false;
  async function tick() {
    try {
      const [cl, metrics, ready] = await Promise.all([
        api('GET', '/api/v1/cluster'),
        fetch('/metrics', { headers: { Authorization: 'Bearer ' + getKey() } }).then((r) => {
          if (!r.ok) throw Object.assign(new Error(`/metrics answered ${r.status}`), { code: 'METRICS' });
          return r.text();
        }),
        fetch('/ready').then((r) => r.json().then((j) => ({ ok: r.ok, ...j }))).catch(() => ({ ok: false, reason: 'no answer' })),
      ]);
      if (stopped) return;
      err.show(null);
      const leader = cl.data.leader;
      nodesBody.replaceChildren(...cl.data.members.map((m) => {
        const roleName = m.id === leader ? 'leader' : m.role === 'learner' ? 'learner' : m.suffrage === 'Nonvoter' || m.suffrage === 'non-voter' ? 'non-voter' : (m.state || 'unknown').toLowerCase();
        const isReady = !m.error && (m.id === leader || m.lag === 0 || m.lag <= 1);
        return h('tr', { 'data-node': m.id, 'data-role': roleName },
          h('th', { scope: 'row' }, m.id),
          h('td', {}, h('span', { class: 'badge ' + roleName }, roleName)),
          h('td', {}, m.error ? '—' : String(m.applied)),
          h('td', {}, m.error ? '—' : String(m.lag)),
          h('td', {}, m.error ? h('span', { class: 'bad' }, 'unreachable') : isReady ? h('span', { class: 'good' }, 'ready') : h('span', { class: 'warn' }, 'catching up')),
          h('td', {}, m.httpAddr || '—'));
      }));
      const ms = parseMetrics(metrics);
      const now = performance.now();
      let rate = '—';
      if (prev) {
        const d = sum(ms, 'pushflo_frontend_publishes_total') - sum(prev, 'pushflo_frontend_publishes_total');
        rate = (d / ((now - prevAt) / 1000)).toFixed(1);
      }
      const rows = [
        ['Leader', leader || 'none known'],
        ['Ready', ready.ok ? 'yes' : `no: ${ready.reason || 'unknown'}`],
        ['Connections', String(sum(ms, 'pushflo_frontend_connections'))],
        ['Subscriptions', String(sum(ms, 'pushflo_frontend_subscriptions'))],
        ['Publishes/s (via this node)', rate],
        ['Delivery latency p50', fmtLatency(quantile(ms, prev, 'pushflo_frontend_delivery_latency_seconds', 0.5))],
        ['Delivery latency p99', fmtLatency(quantile(ms, prev, 'pushflo_frontend_delivery_latency_seconds', 0.99))],
        ['Oldest retained message', fmtDuration(one(ms, 'pushflo_compaction_oldest_retained_age_seconds'))],
        ['Disk use (log)', fmtBytes(one(ms, 'pushflo_log_disk_bytes'))],
      ];
      stats.replaceChildren(...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { 'data-stat': k }, v)]));
      updated.textContent = 'Updated ' + new Date().toLocaleTimeString();
      prev = ms; prevAt = now;
    } catch (e) {
      if (!stopped) err.show(e);
    }
    if (!stopped) timer = setTimeout(tick, REFRESH_MS);
  }
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}
