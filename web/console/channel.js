// Channel view: settings (edit, delete), live tail through the SDK with
// resume across reloads, history paging and since, publish form and a
// connection token form.
import { PushFloClient } from '/sdk/pushflo.js';
import { h, api, errorBox, field, fmtDuration, fmtTime, copy } from './util.js';

const TAIL_KEEP = 50; // messages of the tail kept across a reload
const HISTORY_PAGE = 10;

const stateKey = (slug) => 'pushflo.tail.' + slug;
function loadTail(slug) {
  try { return JSON.parse(sessionStorage.getItem(stateKey(slug))) || { last: '', rows: [] }; } catch { return { last: '', rows: [] }; }
}
function saveTail(slug, st) {
  try { sessionStorage.setItem(stateKey(slug), JSON.stringify(st)); } catch { /* storage full: the tail starts fresh after a reload */ }
}

// messageRow shows one message: ID with a copy button, event type, time
// and pretty JSON content.
function messageRow(m) {
  const btn = h('button', { type: 'button', class: 'small', onclick: () => copy(m.id, btn) }, 'Copy ID');
  return h('li', { class: 'msg', 'data-id': m.id, 'data-event': m.eventType },
    h('div', { class: 'meta' }, h('code', { class: 'id' }, m.id), btn,
      h('span', { class: 'badge' }, m.eventType), h('time', {}, fmtTime(m.timestamp)),
      m.clientId ? h('span', { class: 'muted' }, 'from ' + m.clientId) : null),
    h('pre', {}, JSON.stringify(m.content, null, 2)));
}
function gapRow(g) {
  return h('li', { class: 'gap', role: 'note' },
    `Gap: messages after ${g.after || 'the start'} up to ${g.before || 'now'} were removed by ${g.reason || 'retention'} before they could be shown.`);
}

export function render(main, slug) {
  const enc = encodeURIComponent(slug);
  const base = `/api/v1/channels/${enc}`;
  let stopped = false;
  const stops = [];

  // Settings.
  const info = h('dl', { class: 'stats' });
  const infoErr = errorBox();
  const settings = h('section', { class: 'card', 'aria-labelledby': 'settings-h' }, h('h2', { id: 'settings-h' }, 'Settings'), info, infoErr);
  async function loadInfo() {
    try {
      const c = (await api('GET', base)).data;
      info.replaceChildren(...[
        ['Name', c.name], ['Description', c.description || '—'], ['Messages', String(c.messageCount)],
        ['Retention', fmtDuration(c.retentionSeconds)], ['Max messages', c.maxMessages || '—'],
        ['Max bytes', c.maxBytes || '—'], ['Private', c.isPrivate ? 'yes' : 'no'],
      ].flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]));
      editForm.fill(c);
      infoErr.show(null);
    } catch (e) {
      infoErr.show(e.status === 404 ? { message: `No channel "${slug}" has been created with the channel API; it still exists once something is published to it.` } : e);
    }
  }
  const editForm = makeEditForm(base, slug, loadInfo);

  // Live tail.
  const tailState = loadTail(slug);
  const tailList = h('ol', { id: 'tail', class: 'messages', 'aria-live': 'polite' });
  const status = h('p', { id: 'tail-status', class: 'muted', role: 'status' }, 'Connecting…');
  const filter = h('input', { id: 'tail-filter', placeholder: 'all event types' });
  const transport = h('select', { id: 'tail-transport' }, h('option', { value: 'websocket' }, 'WebSocket'), h('option', { value: 'sse' }, 'SSE'));
  transport.value = sessionStorage.getItem('pushflo.transport') || 'websocket';
  const tailErr = errorBox();
  function showRow(el) {
    const f = filter.value.trim();
    el.hidden = !!f && el.classList.contains('msg') && el.dataset.event !== f;
  }
  function addToTail(el) {
    showRow(el);
    tailList.prepend(el);
    while (tailList.children.length > 200) tailList.lastChild.remove();
  }
  for (const r of tailState.rows.slice().reverse()) addToTail(r.gap ? gapRow(r.gap) : messageRow(r));
  filter.addEventListener('input', () => { for (const el of tailList.children) showRow(el); });

  let client = null;
  function connect() {
    if (client) client.destroy();
    sessionStorage.setItem('pushflo.transport', transport.value);
    client = new PushFloClient({
      publishKey: '', baseUrl: location.origin, transports: [transport.value], autoReconnect: true,
      // A short-lived connection token for this channel only, minted with
      // the key in the Authorization header: the key never goes in a URL.
      getToken: async () => (await api('POST', '/api/v1/auth/token', { channels: [slug], ttl: 600, clientId: 'console' })).data.token,
    });
    const resumeFrom = tailState.last;
    client.on('stateChange', (s) => { if (!stopped) status.textContent = `${s.to || s} over ${transport.value}`; });
    client.on('error', (e) => { if (!stopped) tailErr.show({ code: e.code, message: e.message }); });
    client.subscribe(slug, {
      lastMessageId: resumeFrom || undefined,
      onSubscribed: (s) => {
        if (stopped) return;
        tailErr.show(null);
        status.textContent = resumeFrom
          ? `Live over ${transport.value}; resumed after ${resumeFrom}${s && s.recovered === false ? ' (not all of it was still retained)' : ''}`
          : `Live over ${transport.value}`;
        status.dataset.live = '1';
      },
      onGap: (g) => {
        tailState.rows.unshift({ gap: g });
        tailState.rows = tailState.rows.slice(0, TAIL_KEEP);
        saveTail(slug, tailState);
        addToTail(gapRow(g));
      },
      onMessage: (m) => {
        tailState.last = m.id;
        tailState.rows.unshift({ id: m.id, eventType: m.eventType, clientId: m.clientId, content: m.content, timestamp: m.timestamp });
        tailState.rows = tailState.rows.slice(0, TAIL_KEEP);
        saveTail(slug, tailState);
        addToTail(messageRow(m));
      },
      onError: (e) => { if (!stopped) tailErr.show({ code: e.code, message: e.message }); },
    });
    client.connect().catch(() => { /* shown through the error event; the client retries */ });
  }
  transport.addEventListener('change', connect);
  stops.push(() => { if (client) client.destroy(); });
  const clearBtn = h('button', { type: 'button', onclick: () => { tailState.rows = []; saveTail(slug, tailState); tailList.replaceChildren(); } }, 'Clear');
  const tail = h('section', { class: 'card', 'aria-labelledby': 'tail-h' },
    h('h2', { id: 'tail-h' }, 'Live tail'), status,
    h('div', { class: 'row' }, field('Transport', transport), field('Event type filter', filter)), clearBtn, tailErr, tailList);

  const publish = makePublishForm(base, tailList);
  const history = makeHistory(base);
  const token = makeTokenForm(slug);

  main.append(
    h('p', {}, h('a', { href: '#/channels' }, '← Channels')),
    h('h1', {}, slug),
    h('div', { class: 'grid' }, h('div', {}, publish, tail), h('div', {}, history, settings, editForm, token)));
  loadInfo();
  connect();
  return () => { stopped = true; for (const f of stops) f(); };
}

function makePublishForm(base, tailList) {
  const content = h('textarea', { id: 'pub-content', rows: 5, spellcheck: 'false' });
  content.value = '{\n  "text": "hello"\n}';
  const eventType = h('input', { id: 'pub-event', value: 'message', maxlength: 64 });
  const idem = h('input', { id: 'pub-idem', maxlength: 128, placeholder: 'optional' });
  const err = errorBox();
  const result = h('p', { id: 'pub-result', class: 'result', role: 'status' });
  function validate() {
    try {
      const v = JSON.parse(content.value);
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('content must be a JSON object, like {"text":"hi"}');
      content.setCustomValidity('');
      return v;
    } catch (e) {
      content.setCustomValidity(e.message);
      return e;
    }
  }
  content.addEventListener('input', () => { const v = validate(); err.show(v instanceof Error ? { message: 'Not valid: ' + v.message } : null); });
  return h('form', {
    class: 'card', 'aria-labelledby': 'pub-h',
    onsubmit: async (ev) => {
      ev.preventDefault();
      const v = validate();
      if (v instanceof Error) { err.show({ message: 'Not valid: ' + v.message }); return; }
      const headers = idem.value.trim() ? { 'Idempotency-Key': idem.value.trim() } : {};
      result.textContent = 'Publishing…';
      try {
        const r = await api('POST', base + '/messages', { content: v, eventType: eventType.value.trim() || 'message' }, headers);
        err.show(null);
        result.textContent = `${r.status} Created: ${r.data.id} (delivered to ${r.data.delivered})`;
        result.dataset.id = r.data.id;
        // Mark the message when it arrives in the tail.
        const mark = () => {
          const li = tailList.querySelector(`[data-id="${CSS.escape(r.data.id)}"]`);
          if (li) { li.classList.add('mine'); result.textContent += ' — arrived in the tail'; return true; }
          return false;
        };
        if (!mark()) {
          const obs = new MutationObserver(() => { if (mark()) obs.disconnect(); });
          obs.observe(tailList, { childList: true });
          setTimeout(() => obs.disconnect(), 30000);
        }
      } catch (e) { result.textContent = ''; err.show(e); }
    },
  },
  h('h2', { id: 'pub-h' }, 'Publish'),
  field('Content (JSON object)', content), h('div', { class: 'row' }, field('Event type', eventType), field('Idempotency key', idem)),
  err, h('button', { type: 'submit' }, 'Publish'), result);
}

function makeHistory(base) {
  const list = h('ol', { id: 'history', class: 'messages' });
  const eventType = h('input', { id: 'hist-event', placeholder: 'all event types' });
  const since = h('input', { id: 'hist-since', placeholder: 'message ID' });
  const err = errorBox();
  const pos = h('span', { id: 'hist-page' });
  let page = 1, totalPages = 1, mode = 'pages';
  const prevBtn = h('button', { type: 'button', id: 'hist-prev', onclick: () => { page--; load(); } }, 'Newer');
  const nextBtn = h('button', { type: 'button', id: 'hist-next', onclick: () => { page++; load(); } }, 'Older');
  let next = '';
  async function load() {
    try {
      let items, note = '';
      if (mode === 'since') {
        const r = (await api('GET', `${base}/messages?since=${encodeURIComponent(since.value.trim())}&limit=${HISTORY_PAGE}`)).data;
        items = r.items;
        next = r.hasMore ? r.next : '';
        note = `after ${since.value.trim()}, oldest first; ${r.complete ? 'complete' : 'not complete: older messages were removed by retention'}`;
        list.replaceChildren(...(r.gap ? [gapRow(r.gap)] : []), ...items.map(messageRow));
        prevBtn.disabled = true;
        nextBtn.disabled = !next;
        pos.textContent = note;
      } else {
        const q = new URLSearchParams({ page, pageSize: HISTORY_PAGE });
        if (eventType.value.trim()) q.set('eventType', eventType.value.trim());
        const r = (await api('GET', `${base}/messages?${q}`)).data;
        totalPages = Math.max(1, r.pagination.totalPages);
        list.replaceChildren(...r.items.map(messageRow));
        if (!r.items.length) list.append(h('li', { class: 'muted' }, 'No messages.'));
        prevBtn.disabled = page <= 1;
        nextBtn.disabled = page >= totalPages;
        pos.textContent = `page ${page} of ${totalPages} (${r.pagination.total} messages, newest first)`;
      }
      err.show(null);
    } catch (e) { err.show(e); }
  }
  nextBtn.addEventListener('click', () => { if (mode === 'since' && next) { since.value = next; page--; load(); } });
  const form = h('form', {
    'aria-label': 'History filters',
    onsubmit: (ev) => { ev.preventDefault(); mode = since.value.trim() ? 'since' : 'pages'; page = 1; load(); },
  }, h('div', { class: 'row' }, field('Event type', eventType), field('Since (message ID)', since, 'empty: newest first, in pages')),
  h('button', { type: 'submit' }, 'Show'));
  load();
  return h('section', { class: 'card', 'aria-labelledby': 'hist-h' }, h('h2', { id: 'hist-h' }, 'History'), form, err,
    h('div', { class: 'pager' }, prevBtn, pos, nextBtn), list);
}

function makeEditForm(base, slug, reload) {
  const name = h('input', { id: 'edit-name', maxlength: 128 });
  const desc = h('input', { id: 'edit-desc' });
  const retention = h('input', { id: 'edit-retention', type: 'number', min: 1 });
  const maxMessages = h('input', { id: 'edit-maxmsg', type: 'number', min: 0 });
  const maxBytes = h('input', { id: 'edit-maxbytes', type: 'number', min: 0 });
  const priv = h('input', { id: 'edit-private', type: 'checkbox' });
  const err = errorBox();
  const done = h('p', { role: 'status', class: 'result' });
  const dialog = h('dialog', { id: 'delete-dialog', 'aria-labelledby': 'del-h' });
  const delErr = errorBox();
  dialog.append(h('h2', { id: 'del-h' }, `Delete ${slug}?`),
    h('p', {}, 'Its settings and its messages are removed on every node. This cannot be undone.'), delErr,
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'danger', id: 'delete-confirm', onclick: async () => {
        try {
          await api('DELETE', base);
          dialog.close();
          location.hash = '#/channels';
        } catch (e) { delErr.show(e); }
      } }, 'Delete'),
      h('button', { type: 'button', autofocus: true, onclick: () => dialog.close() }, 'Cancel')));
  const form = h('form', {
    class: 'card', 'aria-labelledby': 'edit-h',
    onsubmit: async (ev) => {
      ev.preventDefault();
      const req = { name: name.value, description: desc.value, isPrivate: priv.checked };
      if (retention.value) req.retentionSeconds = Number(retention.value);
      if (maxMessages.value !== '') req.maxMessages = Number(maxMessages.value);
      if (maxBytes.value !== '') req.maxBytes = Number(maxBytes.value);
      try {
        await api('PATCH', base, req);
        err.show(null);
        done.textContent = 'Saved.';
        reload();
      } catch (e) { done.textContent = ''; err.show(e); }
    },
  },
  h('h2', { id: 'edit-h' }, 'Edit'),
  h('fieldset', {},
    h('legend', { class: 'sr-only' }, 'Channel settings'),
    h('div', { class: 'row' }, field('Name', name), field('Description', desc)),
    h('div', { class: 'row' }, field('Retention (seconds)', retention), field('Max messages', maxMessages, '0: no cap'), field('Max bytes', maxBytes, '0: no cap')),
    h('div', { class: 'check' }, priv, h('label', { for: 'edit-private' }, 'Private')),
    err, h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Save'),
      h('button', { type: 'button', class: 'danger', id: 'delete', onclick: () => { delErr.show(null); dialog.showModal(); } }, 'Delete channel…'))),
  done, dialog);
  form.fill = (c) => {
    name.value = c.name || ''; desc.value = c.description || ''; priv.checked = !!c.isPrivate;
    retention.value = c.retentionSeconds || ''; maxMessages.value = c.maxMessages || ''; maxBytes.value = c.maxBytes || '';
  };
  return form;
}

function makeTokenForm(slug) {
  const clientId = h('input', { id: 'tok-client', placeholder: 'optional' });
  const ttl = h('input', { id: 'tok-ttl', type: 'number', min: 10, value: 3600 });
  const err = errorBox();
  const out = h('output', { id: 'tok-out', class: 'token' });
  return h('form', {
    class: 'card', 'aria-labelledby': 'tok-h',
    onsubmit: async (ev) => {
      ev.preventDefault();
      const req = { channels: [slug], ttl: Number(ttl.value) };
      if (clientId.value.trim()) req.clientId = clientId.value.trim();
      try {
        const d = (await api('POST', '/api/v1/auth/token', req)).data;
        err.show(null);
        out.replaceChildren(h('div', {}, `Expires ${d.expiresAt}, client ${d.clientId}:`), h('code', {}, d.token));
      } catch (e) { out.replaceChildren(); err.show(e); }
    },
  },
  h('h2', { id: 'tok-h' }, 'Mint a connection token'),
  h('p', { class: 'muted' }, 'A browser passes it in place of the pub_ key; it grants this channel even when private.'),
  h('div', { class: 'row' }, field('Client ID', clientId), field('Lifetime (seconds)', ttl)), err,
  h('button', { type: 'submit' }, 'Mint token'), out);
}
