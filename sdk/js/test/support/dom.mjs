// installDom gives this process a jsdom window and document, enough for
// react-dom to render into, and returns a function that removes them.
import { JSDOM } from 'jsdom';

export function installDom() {
  const dom = new JSDOM('<!doctype html><html><body><div id="root"></div></body></html>', { url: 'http://localhost/' });
  const keys = ['window', 'document', 'navigator', 'HTMLElement', 'Node', 'Event'];
  const saved = {};
  for (const k of keys) {
    saved[k] = Object.getOwnPropertyDescriptor(globalThis, k);
    Object.defineProperty(globalThis, k, { value: k === 'window' ? dom.window : dom.window[k], configurable: true, writable: true });
  }
  return {
    root: dom.window.document.getElementById('root'),
    cleanup() {
      for (const k of keys) {
        if (saved[k]) Object.defineProperty(globalThis, k, saved[k]);
        else delete globalThis[k];
      }
      dom.window.close();
    },
  };
}
