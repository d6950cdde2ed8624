import { backoffDelay } from './backoff.js';
import { NetworkError, PushFloError, errorFromWire } from './errors.js';
import type { FetchFunction } from './types.js';

export interface RequestConfig {
  baseUrl: string;
  key: string;
  fetch: FetchFunction;
  /** Per-attempt timeout in ms. */
  timeout: number;
  /** Retries after the first attempt, for requests that may be retried. */
  retryAttempts: number;
  retryDelay: number;
}

export interface Envelope<T> {
  data: T;
  /** The whole decoded body, for fields beside `data` (pagination). */
  body: any;
  status: number;
}

/**
 * request sends one REST call with `Authorization: Bearer <key>` and
 * unwraps `{"success":true,"data":…}`. Errors become PushFloError
 * subclasses carrying the server's `code`. When `retry` is set, network
 * failures, timeouts, 429 and 5xx are retried with backoff.
 */
export async function request<T>(
  cfg: RequestConfig,
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string>; retry?: boolean } = {},
): Promise<Envelope<T>> {
  const url = cfg.baseUrl + path;
  const headers: Record<string, string> = { Authorization: `Bearer ${cfg.key}`, Accept: 'application/json', ...opts.headers };
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const tries = opts.retry ? cfg.retryAttempts + 1 : 1;
  let last: PushFloError | undefined;
  for (let attempt = 1; attempt <= tries; attempt++) {
    if (attempt > 1) await sleep(backoffDelay(attempt - 1, cfg.retryDelay, 10 * cfg.retryDelay));
    try {
      return await once<T>(cfg, method, url, headers, body);
    } catch (err) {
      last = err instanceof PushFloError ? err : new NetworkError(`${method} ${path}: ${String(err)}`);
      if (!retryable(last)) throw last;
    }
  }
  throw last!;
}

function retryable(err: PushFloError): boolean {
  return err.status === 0 || err.status === 429 || err.status >= 500;
}

async function once<T>(cfg: RequestConfig, method: string, url: string, headers: Record<string, string>, body: string | undefined): Promise<Envelope<T>> {
  const abort = typeof AbortController !== 'undefined' ? new AbortController() : undefined;
  const timer = setTimeout(() => abort?.abort(), cfg.timeout);
  let res: any;
  let text: string;
  try {
    res = await cfg.fetch(url, { method, headers, body, signal: abort?.signal });
    text = res.status === 204 ? '' : await res.text();
  } catch (err: any) {
    if (abort?.signal.aborted) throw new NetworkError(`${method} ${url} timed out after ${cfg.timeout} ms`, 'TIMEOUT');
    throw new NetworkError(`${method} ${url} failed: ${err && err.message ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
  let decoded: any = undefined;
  if (text) {
    try {
      decoded = JSON.parse(text);
    } catch {
      if (res.ok) throw new PushFloError(`${method} ${url} answered ${res.status} with a body that is not JSON`, 'SERVER_ERROR', res.status);
    }
  }
  if (!res.ok) {
    const message = decoded && typeof decoded.error === 'string' ? decoded.error : `${method} ${url} answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
    throw errorFromWire(message, decoded?.code, res.status);
  }
  const data = decoded && typeof decoded === 'object' && 'data' in decoded ? decoded.data : decoded;
  return { data: data as T, body: decoded, status: res.status };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** randomKey returns a random string for Idempotency-Key headers. */
export function randomKey(): string {
  const c = (globalThis as any).crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  let s = '';
  for (let i = 0; i < 32; i++) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}
