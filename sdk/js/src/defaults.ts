/**
 * defaults holds the defaults that differ between the npm package and the
 * browser bundle. The package keeps `@pushflodev/sdk`'s hosted base URL;
 * the bundle served at `/sdk/pushflo.js` sets `baseUrl` to the server that
 * served it (see bundle.ts).
 */
export const defaults = {
  /** The base URL used when ClientOptions.baseUrl is not given. */
  baseUrl: 'https://api.pushflo.dev',
  /** The Console API URL @pushflodev/sdk sends channel management to. */
  consoleUrl: 'https://console.pushflo.dev',
};
