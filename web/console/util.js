// Helpers shared by the console's views: DOM building (text only, never
// HTML from data), the REST client and formatting.

const KEY = 'pushflo.key';

export function getKey() { return sessionStorage.getItem(KEY) || ''; }
export function setKey(k) { k ? sessionStorage.setItem(KEY, k) : sessionStorage.removeItem(KEY); }
export function role() {
  const k = getKey();
  return k.startsWith('mgmt_') ? 'mgmt' : k.startsWith('sec_') ? 'sec' : '';
}

// h builds an element. attrs: on* are listeners, others attributes
// (false/null skip). Children: strings become text nodes.
export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v == null) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'value') e.value = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

// api calls the REST API with the signed-in key in the Authorization
// header. It answers the parsed body (data unwrapped when wrap) and
// throws ApiError with the server's words.
export async function api(method, path, body, headers = {}) {
  const init = { method, headers: { Authorization: 'Bearer ' + getKey(), ...headers } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'NETWORK', 'the server did not answer (is it running?)');
  }
  if (res.status === 204) return { status: 204, data: null };
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  if (!res.ok) {
    const msg = json && json.error ? json.error : `HTTP ${res.status}`;
    const retry = res.headers.get('Retry-After');
    throw new ApiError(res.status, (json && json.code) || 'HTTP_' + res.status, msg + (retry ? ` (retry after ${retry} s)` : ''));
  }
  return { status: res.status, data: json && 'data' in json ? json.data : json, body: json };
}

// errorBox is a live region that shows an action's error where it happened.
export function errorBox() {
  const e = h('p', { class: 'error', role: 'alert', hidden: true });
  e.show = (err) => {
    if (!err) { e.hidden = true; e.textContent = ''; return; }
    e.textContent = err.code && err.code !== 'NETWORK' ? `${err.code}: ${err.message}` : err.message;
    e.hidden = false;
  };
  return e;
}

export function field(label, input, hint) {
  const id = input.id || (input.id = 'f' + Math.random().toString(36).slice(2, 9));
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('small', {}, hint) : null);
}

export function fmtBytes(n) {
  if (n == null || isNaN(n)) return '—';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

export function fmtDuration(s) {
  if (s == null || isNaN(s)) return '—';
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

export function fmtTime(ms) {
  if (!ms) return '—';
  return new Date(ms).toLocaleString();
}

export async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'Copied';
  } catch {
    // Clipboard needs a secure context: select the text for a manual copy.
    button.textContent = 'Copy failed: select the ID';
  }
  setTimeout(() => { button.textContent = 'Copy ID'; }, 1500);
}

// MGMT_ONLY is shown where the signed-in key may not act: the server lets
// only management keys change cluster members.
export const MGMT_ONLY = 'Needs a management (mgmt_) key; you signed in with a secret key.';
