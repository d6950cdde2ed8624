// Channels: the list with search, message count, retention, private flag
// and newest message time; a form to create one.
import { h, api, errorBox, field, fmtDuration, fmtTime } from './util.js';

const PAGE_SIZE = 100;

export function render(main) {
  const search = h('input', { type: 'search', id: 'channel-search', placeholder: 'name or slug' });
  const body = h('tbody');
  const listErr = errorBox();
  const pager = h('div', { class: 'pager' });
  let all = [], page = 1, totalPages = 1, stopped = false;

  const name = h('input', { id: 'new-name', required: true, maxlength: 128 });
  const slug = h('input', { id: 'new-slug', required: true, maxlength: 128, pattern: '[a-zA-Z0-9\\-_:.@=,]+' });
  const desc = h('input', { id: 'new-desc' });
  const retention = h('input', { id: 'new-retention', type: 'number', min: 1, placeholder: 'server default' });
  const priv = h('input', { id: 'new-private', type: 'checkbox' });
  const createErr = errorBox();
  name.addEventListener('input', () => {
    if (!slug.dataset.touched) slug.value = name.value.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  });
  slug.addEventListener('input', () => { slug.dataset.touched = '1'; });
  const form = h('form', {
    class: 'card', 'aria-labelledby': 'create-h',
    onsubmit: async (ev) => {
      ev.preventDefault();
      const req = { name: name.value.trim(), slug: slug.value.trim(), description: desc.value, isPrivate: priv.checked };
      if (retention.value) req.retentionSeconds = Number(retention.value);
      try {
        await api('POST', '/api/v1/channels', req);
        createErr.show(null);
        location.hash = '#/channels/' + encodeURIComponent(req.slug);
      } catch (e) { createErr.show(e); }
    },
  },
  h('h2', { id: 'create-h' }, 'Create a channel'),
  h('fieldset', {},
    h('legend', { class: 'sr-only' }, 'New channel'),
    h('div', { class: 'row' }, field('Name', name), field('Slug', slug, '1–128 of a-z A-Z 0-9 - _ : . @ = ,')),
    h('div', { class: 'row' }, field('Description', desc), field('Retention (seconds)', retention)),
    h('div', { class: 'check' }, priv, h('label', { for: 'new-private' }, 'Private (subscribers need a token granting it)')),
    createErr, h('button', { type: 'submit' }, 'Create channel')));

  main.append(h('h1', {}, 'Channels'),
    h('section', { 'aria-labelledby': 'list-h' }, h('h2', { id: 'list-h', class: 'sr-only' }, 'Channel list'),
      field('Search', search), listErr,
      h('div', { class: 'scroll' }, h('table', { id: 'channels' },
        h('thead', {}, h('tr', {}, ['Channel', 'Messages', 'Retention', 'Private', 'Newest message'].map((t) => h('th', { scope: 'col' }, t)))),
        body)), pager),
    form);

  const newest = new Map();
  function draw() {
    const q = search.value.trim().toLowerCase();
    const shown = all.filter((c) => !q || c.slug.toLowerCase().includes(q) || (c.name || '').toLowerCase().includes(q));
    body.replaceChildren(...shown.map((c) => {
      const cell = h('td', { 'data-newest': c.slug }, newest.has(c.slug) ? newest.get(c.slug) : '…');
      return h('tr', {},
        h('th', { scope: 'row' }, h('a', { href: '#/channels/' + encodeURIComponent(c.slug) }, c.name && c.name !== c.slug ? `${c.name} (${c.slug})` : c.slug)),
        h('td', {}, String(c.messageCount)), h('td', {}, fmtDuration(c.retentionSeconds)),
        h('td', {}, c.isPrivate ? 'private' : 'public'), cell);
    }));
    if (!shown.length) body.append(h('tr', {}, h('td', { colspan: 5 }, all.length ? 'No channel matches.' : 'No channels yet: create one below, or publish to any name.')));
    // Newest message time: one history read of a single message per row shown.
    for (const c of shown.slice(0, 50)) {
      if (newest.has(c.slug)) continue;
      newest.set(c.slug, '…');
      api('GET', `/api/v1/channels/${encodeURIComponent(c.slug)}/messages?pageSize=1`).then((r) => {
        const m = r.data.items[0];
        newest.set(c.slug, m ? fmtTime(m.timestamp) : 'none');
      }).catch(() => newest.set(c.slug, '—')).then(() => {
        const td = stopped ? null : body.querySelector(`[data-newest="${CSS.escape(c.slug)}"]`);
        if (td) td.textContent = newest.get(c.slug);
      });
    }
    pager.replaceChildren(
      h('button', { type: 'button', disabled: page <= 1, onclick: () => { page--; load(); } }, 'Previous page'),
      h('span', {}, ` page ${page} of ${totalPages} `),
      h('button', { type: 'button', disabled: page >= totalPages, onclick: () => { page++; load(); } }, 'Next page'));
  }
  async function load() {
    try {
      const r = await api('GET', `/api/v1/channels?page=${page}&pageSize=${PAGE_SIZE}`);
      all = r.data || [];
      totalPages = Math.max(1, (r.body.pagination && r.body.pagination.totalPages) || 1);
      listErr.show(null);
      draw();
    } catch (e) { listErr.show(e); }
  }
  search.addEventListener('input', draw);
  load();
  return () => { stopped = true; };
}
