/**
 * tokenExpiry returns when a connection token expires (Unix ms), read from
 * the `exp` claim of a JWT-shaped token, or undefined for a publish key or
 * a token without one. The signature is not checked: the server does that;
 * the client only needs to know when to fetch a new token.
 */
export function tokenExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const b64 = parts[1]!.replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(decodeBase64(b64 + '='.repeat((4 - (b64.length % 4)) % 4)));
    return typeof claims?.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function decodeBase64(b64: string): string {
  const atobFn = (globalThis as any).atob as ((s: string) => string) | undefined;
  if (atobFn) {
    const bin = atobFn(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new TextDecoder().decode(bytes);
  }
  return (globalThis as any).Buffer.from(b64, 'base64').toString('utf8');
}
