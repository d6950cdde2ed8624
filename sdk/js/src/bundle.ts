/**
 * The entry point of the browser ES module the server serves at
 * `/sdk/pushflo.js` (built by `make sdk-bundle` into web/sdk/pushflo.js).
 * It is the main entry's client and errors, with one difference: a client
 * made without `baseUrl` connects to the server that served this file.
 */
import { defaults } from './defaults.js';

try {
  defaults.baseUrl = new URL(import.meta.url).origin;
} catch {
  // Loaded from something that is not a URL (a bundler inlined it): keep the package default.
}

export * from './index.js';
