/**
 * The server entry point: PushFloServer publishes, reads history, manages
 * channels and mints connection tokens over the REST API with a secret key.
 * Keep it on the server; a `sec_` key must never reach a browser.
 */
import { ValidationError } from './errors.js';
import { request, randomKey } from './http.js';
import type { RequestConfig } from './http.js';
import { channelProblem } from './ids.js';
import type { FetchFunction, Gap, Message } from './types.js';

export { AuthenticationError, NetworkError, NotFoundError, PushFloError, ValidationError } from './errors.js';
export type { ErrorCode } from './errors.js';
export type { FetchFunction, Gap, Message } from './types.js';

/** ServerOptions configure a PushFloServer. Durations are in milliseconds. */
export interface ServerOptions {
  /** A secret key (`sec_…`), or a management key (`mgmt_…`) for channel management. Required. */
  secretKey: string;
  /** The server's base URL, e.g. `https://push.example.com`. Required. */
  baseUrl: string;
  /** Timeout of one HTTP attempt. Default 30000. */
  timeout?: number;
  /** Retries after a network error, timeout, 429 or 5xx. Default 3; 0 disables. */
  retryAttempts?: number;
  /** First retry delay, doubling with jitter. Default 250. */
  retryDelay?: number;
  /** fetch function. Default `globalThis.fetch` (Node 18+). */
  fetch?: FetchFunction;
}

/** PublishOptions are the optional parts of a publish. */
export interface PublishOptions {
  /** 1–64 characters. Default "message". */
  eventType?: string;
  clientId?: string;
  /**
   * The server returns the first result for a repeated key on one channel
   * instead of appending twice. Default: a random key per `publish` call, so
   * the SDK's own retries never duplicate a message.
   */
  idempotencyKey?: string;
}

/** PublishResult is what the server returns once a majority committed the message. */
export interface PublishResult {
  id: string;
  channelSlug: string;
  eventType: string;
  clientId: string;
  /** How many subscribers it was handed to (as far as the answering node knows). */
  delivered: number;
  createdAt: string;
}

export interface Pagination {
  page: number;
  pageSize: number;
  total: number;
  totalPages: number;
}

/** HistoryOptions select a page of history, newest first. */
export interface HistoryOptions {
  /** 1-based. Default 1. */
  page?: number;
  /** Default 25, at most 100. */
  pageSize?: number;
  eventType?: string;
  /** Only messages after this time (Unix ms, exclusive). */
  after?: number;
  /** Only messages before this time (Unix ms, exclusive). */
  before?: number;
}

export interface MessageHistory<T = Record<string, unknown>> {
  items: Message<T>[];
  pagination: Pagination;
}

/** MessagesSince is the catch-up answer: messages after an ID, oldest first. */
export interface MessagesSince<T = Record<string, unknown>> {
  items: Message<T>[];
  /** False when messages after the ID were already removed by retention; `gap` says which. */
  complete: boolean;
  gap?: Gap;
}

export interface Channel {
  id: string;
  name: string;
  slug: string;
  description: string;
  isPrivate: boolean;
  metadata: Record<string, unknown>;
  messageCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface ChannelInput {
  name: string;
  slug: string;
  description?: string;
  isPrivate?: boolean;
  metadata?: Record<string, unknown>;
}

export interface ChannelList {
  items: Channel[];
  pagination: Pagination;
}

export interface TokenOptions {
  /** The publish key the token stands in for. Required. */
  publishKey: string;
  clientId?: string;
  /** Channels (including private ones) the token may subscribe to. */
  channels?: string[];
  /** Lifetime in seconds. */
  ttl?: number;
}

export interface ConnectionToken {
  token: string;
  expiresAt: string;
  endpoint: string;
  clientId: string;
}

/**
 * PushFloServer is the backend half of the SDK. Every method is one REST
 * call; `publish` resolves after the message is committed by a majority of
 * the cluster. Reads and publishes are retried on network errors, 429 and
 * 5xx; publishes carry an Idempotency-Key so a retry never appends twice.
 */
export class PushFloServer {
  private readonly cfg: RequestConfig;

  constructor(options: ServerOptions) {
    const problems: string[] = [];
    if (!options || typeof options.secretKey !== 'string' || options.secretKey === '') problems.push('secretKey is required (a sec_ or mgmt_ key)');
    if (!options || typeof options.baseUrl !== 'string' || !/^https?:\/\//.test(options.baseUrl)) {
      problems.push(`baseUrl ${JSON.stringify(options?.baseUrl)} must be an http:// or https:// URL`);
    }
    const f = options?.fetch ?? (typeof fetch === 'function' ? fetch.bind(globalThis) : undefined);
    if (!f) problems.push('no global fetch: pass the fetch option');
    if (problems.length > 0) throw new ValidationError(`invalid PushFloServer options: ${problems.join('; ')}`);
    this.cfg = {
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      key: options.secretKey,
      fetch: f!,
      timeout: options.timeout ?? 30000,
      retryAttempts: options.retryAttempts ?? 3,
      retryDelay: options.retryDelay ?? 250,
    };
  }

  /**
   * publish appends `content` (a JSON object) to `channel` and resolves once
   * a majority of the cluster has committed it.
   */
  async publish(channel: string, content: Record<string, unknown>, options: PublishOptions = {}): Promise<PublishResult> {
    checkChannel(channel);
    if (content === null || typeof content !== 'object' || Array.isArray(content)) {
      throw new ValidationError(`content must be a JSON object, got ${Array.isArray(content) ? 'an array' : content === null ? 'null' : typeof content}`);
    }
    const body: Record<string, unknown> = { content };
    if (options.eventType !== undefined) body.eventType = options.eventType;
    if (options.clientId !== undefined) body.clientId = options.clientId;
    const r = await request<PublishResult>(this.cfg, 'POST', `/api/v1/channels/${encodeURIComponent(channel)}/messages`, {
      body,
      headers: { 'Idempotency-Key': options.idempotencyKey ?? randomKey() },
      retry: true,
    });
    return r.data;
  }

  /** getMessageHistory returns one page of a channel's history, newest first. */
  async getMessageHistory<T = Record<string, unknown>>(channel: string, options: HistoryOptions = {}): Promise<MessageHistory<T>> {
    checkChannel(channel);
    const r = await request<any>(this.cfg, 'GET', `/api/v1/channels/${encodeURIComponent(channel)}/messages${query(options)}`, { retry: true });
    const data = r.data ?? {};
    return {
      items: Array.isArray(data) ? data : data.items ?? [],
      pagination: data.pagination ?? r.body?.pagination ?? { page: 1, pageSize: 0, total: 0, totalPages: 0 },
    };
  }

  /**
   * getMessagesSince returns the messages after `messageId`, oldest first,
   * for catching up; `complete` is false (with `gap`) when some were
   * already removed by retention.
   */
  async getMessagesSince<T = Record<string, unknown>>(channel: string, messageId: string, options: { limit?: number } = {}): Promise<MessagesSince<T>> {
    checkChannel(channel);
    const r = await request<any>(this.cfg, 'GET', `/api/v1/channels/${encodeURIComponent(channel)}/messages${query({ since: messageId, limit: options.limit })}`, {
      retry: true,
    });
    const data = r.data ?? {};
    const out: MessagesSince<T> = {
      items: Array.isArray(data) ? data : data.items ?? [],
      complete: (data.complete ?? r.body?.complete) !== false,
    };
    const gap = data.gap ?? r.body?.gap;
    if (gap) out.gap = gap;
    return out;
  }

  /** listChannels returns one page of channels. */
  async listChannels(options: { page?: number; pageSize?: number } = {}): Promise<ChannelList> {
    const r = await request<any>(this.cfg, 'GET', `/api/v1/channels${query(options)}`, { retry: true });
    const data = r.data;
    return {
      items: Array.isArray(data) ? data : data?.items ?? [],
      pagination: r.body?.pagination ?? data?.pagination ?? { page: 1, pageSize: 0, total: 0, totalPages: 0 },
    };
  }

  /** getChannel returns one channel; NotFoundError if it does not exist. */
  async getChannel(slug: string): Promise<Channel> {
    checkChannel(slug);
    return (await request<Channel>(this.cfg, 'GET', `/api/v1/channels/${encodeURIComponent(slug)}`, { retry: true })).data;
  }

  /** createChannel creates a channel (management key); it fails with CONFLICT if it exists. */
  async createChannel(input: ChannelInput): Promise<Channel> {
    return (await request<Channel>(this.cfg, 'POST', '/api/v1/channels', { body: input })).data;
  }

  /** updateChannel changes the given fields of a channel (management key). */
  async updateChannel(slug: string, patch: Partial<ChannelInput>): Promise<Channel> {
    checkChannel(slug);
    return (await request<Channel>(this.cfg, 'PATCH', `/api/v1/channels/${encodeURIComponent(slug)}`, { body: patch, retry: true })).data;
  }

  /** deleteChannel deletes a channel (management key). */
  async deleteChannel(slug: string): Promise<void> {
    checkChannel(slug);
    await request<unknown>(this.cfg, 'DELETE', `/api/v1/channels/${encodeURIComponent(slug)}`, { retry: true });
  }

  /**
   * createToken mints a signed, expiring connection token that a browser
   * can use in place of the publish key, and that may grant private channels.
   */
  async createToken(options: TokenOptions): Promise<ConnectionToken> {
    return (await request<ConnectionToken>(this.cfg, 'POST', '/api/v1/auth/token', { body: options, retry: true })).data;
  }
}

function checkChannel(channel: string): void {
  const problem = channelProblem(channel);
  if (problem) throw new ValidationError(problem);
}

function query(params: object): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params as Record<string, unknown>)) {
    if (v === undefined || v === null) continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}
