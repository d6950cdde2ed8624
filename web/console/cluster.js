// Cluster: members with address and state; add a non-voter and remove a
// member with a management key (the API refuses them to a secret key).
import { h, api, role, errorBox, field, MGMT_ONLY } from './util.js';

export function render(main) {
  const body = h('tbody');
  const err = errorBox();
  const isMgmt = role() === 'mgmt';
  const reason = MGMT_ONLY;
  async function load() {
    try {
      const d = (await api('GET', '/api/v1/cluster')).data;
      err.show(null);
      body.replaceChildren(...d.members.map((m) => {
        const rowErr = errorBox();
        const rm = h('button', {
          type: 'button', class: 'danger small', disabled: !isMgmt, title: isMgmt ? null : reason,
          'aria-label': `Remove ${m.id}`,
          onclick: async () => {
            if (rm.dataset.armed !== '1') { rm.dataset.armed = '1'; rm.textContent = `Confirm removing ${m.id}`; return; }
            try { await api('DELETE', '/api/v1/cluster/members/' + encodeURIComponent(m.id)); load(); } catch (e) { rowErr.show(e); }
          },
        }, 'Remove');
        return h('tr', {},
          h('th', { scope: 'row' }, m.id + (m.id === d.leader ? ' (leader)' : '')),
          h('td', {}, m.raftAddr || '—'), h('td', {}, m.httpAddr || '—'),
          h('td', {}, `${m.error ? 'unreachable' : (m.state || '').toLowerCase()}${m.role ? ', ' + m.role : m.suffrage ? ', ' + m.suffrage.toLowerCase() : ''}`),
          h('td', {}, m.error ? '—' : `${m.applied} (lag ${m.lag})`),
          h('td', {}, rm, rowErr));
      }));
    } catch (e) { err.show(e); }
  }
  const id = h('input', { id: 'join-id', required: true, disabled: !isMgmt });
  const addr = h('input', { id: 'join-addr', required: true, placeholder: 'host:port', disabled: !isMgmt });
  const addErr = errorBox();
  const done = h('p', { role: 'status', class: 'result' });
  const form = h('form', {
    class: 'card', 'aria-labelledby': 'join-h',
    onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        await api('POST', '/api/v1/cluster/members', { nodeId: id.value.trim(), raftAddr: addr.value.trim(), nonvoter: true });
        addErr.show(null);
        done.textContent = `Added ${id.value.trim()} as a non-voter.`;
        load();
      } catch (e) { done.textContent = ''; addErr.show(e); }
    },
  },
  h('h2', { id: 'join-h' }, 'Add a non-voter'),
  isMgmt ? h('p', { class: 'muted' }, 'Start the new node with the cluster secret first; it replicates without voting.') : h('p', { class: 'warn', id: 'join-reason' }, reason),
  h('div', { class: 'row' }, field('Node ID', id), field('Raft address', addr)), addErr,
  h('button', { type: 'submit', disabled: !isMgmt }, 'Add non-voter'), done);
  main.append(h('h1', {}, 'Cluster'), err,
    h('button', { type: 'button', onclick: load }, 'Refresh'),
    h('div', { class: 'scroll' }, h('table', { id: 'members' },
      h('thead', {}, h('tr', {}, ['Node', 'Raft address', 'HTTP address', 'State', 'Applied', ''].map((t) => h('th', { scope: 'col' }, t)))), body)),
    form);
  load();
  return null;
}
