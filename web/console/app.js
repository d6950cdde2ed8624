// The console's shell: sign-in, navigation and the hash router. Each view
// module exports render(main, params) and may return a stop function,
// called when the view is left.
import { h, api, getKey, setKey, role, errorBox, field } from './util.js';
import * as overview from './overview.js';
import * as channels from './channels.js';
import * as channel from './channel.js';
import * as cluster from './cluster.js';

const main = document.getElementById('main');
let stop = null;

function signIn() {
  const input = h('input', { type: 'password', name: 'key', autocomplete: 'off', required: true, placeholder: 'sec_… or mgmt_…' });
  const err = errorBox();
  const form = h('form', {
    class: 'card signin', 'aria-labelledby': 'signin-title',
    onsubmit: async (ev) => {
      ev.preventDefault();
      const k = input.value.trim();
      if (!/^(sec|mgmt)_/.test(k)) {
        err.show({ message: 'The console needs a secret (sec_…) or management (mgmt_…) key; a pub_ key may only subscribe.' });
        return;
      }
      setKey(k);
      try {
        await api('GET', '/api/v1/channels?pageSize=1');
      } catch (e) {
        setKey('');
        err.show(e);
        return;
      }
      if (!location.hash || location.hash === '#/') location.hash = '#/overview';
      route();
    },
  },
  h('h1', { id: 'signin-title' }, 'Sign in'),
  h('p', {}, 'The key stays in this tab (sessionStorage) and is sent only in the Authorization header.'),
  field('API key', input), err,
  h('button', { type: 'submit' }, 'Sign in'));
  main.replaceChildren(form);
  input.focus();
}

function route() {
  if (stop) { stop(); stop = null; }
  const signedIn = !!getKey();
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('signout').hidden = !signedIn;
  const who = document.getElementById('who');
  who.hidden = !signedIn;
  who.textContent = signedIn ? (role() === 'mgmt' ? 'management key' : 'secret key') : '';
  if (!signedIn) { signIn(); return; }
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  const section = parts[0] || 'overview';
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.section === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.replaceChildren();
  if (section === 'channels' && parts[1]) stop = channel.render(main, decodeURIComponent(parts.slice(1).join('/')));
  else if (section === 'channels') stop = channels.render(main);
  else if (section === 'cluster') stop = cluster.render(main);
  else stop = overview.render(main);
}

document.getElementById('signout').addEventListener('click', () => {
  setKey('');
  location.hash = '';
  route();
});
window.addEventListener('hashchange', route);
route();
