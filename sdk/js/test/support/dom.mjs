// installDom gives this process a jsdom window and document, enough for
// react-dom to render into. The globals stay for the rest of the process:
// React may still run scheduled work that reads \`window\` after a root is
// unmounted, and node:test runs each test file in its own process anyway.
import { JSDOM } from 'jsdom';

let dom;

export function installDom() {
  if (!dom) {
    dom = new JSDOM('<!doctype html><html><body></body></html>', { url: 'http://localhost/' });
    for (const k of ['window', 'document', 'navigator', 'HTMLElement', 'Node', 'Event']) {
      Object.defineProperty(globalThis, k, { value: k === 'window' ? dom.window : dom.window[k], configurable: true, writable: true });
    }
  }
  const root = dom.window.document.createElement('div');
  dom.window.document.body.appendChild(root);
  return {
    root,
    cleanup() {
      root.remove();
    },
  };
}
