import { backoffDelay } from './backoff.js';
import { ERROR_CODES, NetworkError, PushFloError, errorFromResponse } from './errors.js';
import type { FetchFunction } from './types.js';

export interface RequestConfig {
  /** Base URLs of the cluster's nodes, without a trailing slash; the first is tried first. */
  baseUrls: string[];
  key: string;
  fetch: FetchFunction;
  /** Per-attempt timeout in ms. */
  timeout: number;
  /** Attempts in all (at least 1), for requests that may be retried. */
  attempts: number;
  /** First retry delay in ms; doubles with jitter. */
  retryDelay: number;
  log: (...args: unknown[]) => void;
}

/** RetryPolicy says which failures a request may be retried after. */
export type RetryPolicy =
  /** Never retried (creates that would conflict). */
  | 'never'
  /** Retried after anything that may pass: reads, and writes that are idempotent by nature. */
  | 'idempotent'
  /**
   * A publish: retried after `503 UNAVAILABLE` and 429 (not applied); after
   * no answer, other 5xx and `503 OUTCOME_UNKNOWN` (maybe applied) only
   * when it carries an Idempotency-Key.
   */
  | 'publish';

export interface Envelope<T> {
  data: T;
  /** The whole decoded body, for fields beside `data` (pagination). */
  body: any;
  status: number;
}

/**
 * Requester sends REST calls with `Authorization: Bearer <key>` and
 * unwraps `{"success":true,"data":…}`. Errors become the error classes of
 * `@pushflodev/sdk` (AuthenticationError for 401/403, NetworkError with
 * `statusCode` otherwise) carrying the server's `code`. A retry after a
 * failure that says the node cannot serve (`503 UNAVAILABLE`, no answer)
 * goes to the next base URL; the node that last answered is tried first.
 */
export class Requester {
  private preferred = 0;

  constructor(private readonly cfg: RequestConfig) {}

  async request<T>(
    method: string,
    path: string,
    opts: { body?: unknown; headers?: Record<string, string>; retry: RetryPolicy; urls?: string[] },
  ): Promise<Envelope<T>> {
    const urls = opts.urls ?? this.cfg.baseUrls;
    const headers: Record<string, string> = { Authorization: `Bearer ${this.cfg.key}`, Accept: 'application/json', ...opts.headers };
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    const keyed = headers['Idempotency-Key'] !== undefined;
    const tries = opts.retry === 'never' ? 1 : this.cfg.attempts;
    let node = urls === this.cfg.baseUrls ? this.preferred : 0;
    let triedHere = 0;
    let last: PushFloError | undefined;
    for (let attempt = 1; attempt <= tries; attempt++) {
      try {
        const r = await this.once<T>(method, urls[node]! + path, headers, body);
        if (urls === this.cfg.baseUrls) this.preferred = node;
        return r;
      } catch (err) {
        last = err instanceof PushFloError ? err : NetworkError.fromFetch(err instanceof Error ? err : new Error(String(err)));
        if (attempt === tries || !mayRetry(last, opts.retry, keyed)) throw last;
        // A node that cannot serve: try the next one at once, until each was tried this round.
        if (urls.length > 1 && nodeDown(last)) {
          node = (node + 1) % urls.length;
          if (++triedHere < urls.length) {
            this.cfg.log(`${method} ${path}: ${last.code}; trying ${urls[node]}`);
            continue;
          }
        }
        triedHere = 0;
        const wait = Math.max(backoffDelay(attempt, this.cfg.retryDelay, 10 * this.cfg.retryDelay), retryAfterMs(last));
        this.cfg.log(`${method} ${path}: ${last.code}; retrying in ${wait} ms`);
        await sleep(wait);
      }
    }
    throw last!;
  }

  private async once<T>(method: string, url: string, headers: Record<string, string>, body: string | undefined): Promise<Envelope<T>> {
    const abort = typeof AbortController !== 'undefined' ? new AbortController() : undefined;
    const timer = setTimeout(() => abort?.abort(), this.cfg.timeout);
    this.cfg.log(`${method} ${url}`);
    let res: any;
    let text: string;
    try {
      res = await this.cfg.fetch(url, { method, headers, body, signal: abort?.signal });
      text = res.status === 204 ? '' : await res.text();
    } catch (err: any) {
      if (abort?.signal.aborted) throw NetworkError.timeout(this.cfg.timeout);
      throw NetworkError.fromFetch(err instanceof Error ? err : new Error(String(err)));
    } finally {
      clearTimeout(timer);
    }
    let decoded: any = undefined;
    if (text) {
      try {
        decoded = JSON.parse(text);
      } catch {
        if (res.ok) throw new NetworkError('Failed to parse response', 'PARSE_ERROR', { retryable: false, statusCode: res.status });
      }
    }
    if (!res.ok) {
      const err = errorFromResponse(res.status, decoded && typeof decoded.error === 'string' ? decoded.error : undefined, decoded?.code);
      const ra = Number(res.headers?.get?.('Retry-After'));
      if (ra > 0) retryAfter.set(err, Math.min(ra, 30) * 1000);
      throw err;
    }
    const data = decoded && typeof decoded === 'object' && 'data' in decoded ? decoded.data : decoded;
    return { data: data as T, body: decoded, status: res.status };
  }
}

const retryAfter = new WeakMap<PushFloError, number>();

function retryAfterMs(err: PushFloError): number {
  return retryAfter.get(err) ?? 0;
}

/** nodeDown reports whether an error says this node cannot serve now, so another may. */
function nodeDown(err: PushFloError): boolean {
  return err.code === ERROR_CODES.UNAVAILABLE || err.status === 0 || err.status === 502 || err.status === 504;
}

/** mayRetry decides whether a failed request may be sent again under a policy. */
function mayRetry(err: PushFloError, policy: RetryPolicy, keyed: boolean): boolean {
  if (policy === 'never' || !(err instanceof NetworkError)) return false;
  const notApplied = err.code === ERROR_CODES.UNAVAILABLE || err.code === ERROR_CODES.RATE_LIMITED;
  if (notApplied) return true;
  const maybeApplied = err.code === ERROR_CODES.OUTCOME_UNKNOWN || err.status === 0 || err.status >= 500;
  if (!maybeApplied) return false;
  return policy === 'idempotent' || keyed;
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
