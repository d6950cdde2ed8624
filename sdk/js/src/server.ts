/**
 * The server entry point: PushFloServer publishes, reads history, manages
 * channels and mints connection tokens over the REST API with a secret key.
 * Keep it on the server; a `sec_` key must never reach a browser.
 */
import { AuthenticationError, ValidationError } from './errors.js';
import { defaults } from './defaults.js';
import { Requester, randomKey } from './http.js';
import { channelProblem } from './ids.js';
import type { FetchFunction, Gap, Message } from './types.js';

export { AuthenticationError, ConnectionError, ERROR_CODES, NetworkError, NotFoundError, PushFloError, ValidationError } from './errors.js';
export type { ErrorCode, PushFloErrorOptions } from './errors.js';
export { isValidChannelSlug, toChannelSlug, validateChannelSlug, MAX_SLUG_LENGTH, MIN_SLUG_LENGTH } from './slug.js';
export type { SlugValidationResult } from './slug.js';
export type { FetchFunction, Gap, Message } from './types.js';

/**
 * ServerOptions configure a PushFloServer. Durations are in milliseconds.
 * The first group are `@pushflodev/sdk`'s; the rest are pushflo's.
 */
export interface ServerOptions {
  /** A secret key (`sec_…`) or a management key (`mgmt_…`). Required. */
  secretKey: string;
  /**
   * The server's base URL, e.g. `https://push.example.com`. Default
   * `https://api.pushflo.dev`, the hosted service, like `@pushflodev/sdk`.
   */
  baseUrl?: string;
  /**
   * Where channel management (list, get, create, update, delete) goes.
   * Default: `baseUrl` when one is given (a pushflo server serves both),
   * otherwise the hosted `https://console.pushflo.dev`.
   */
  consoleUrl?: string;
  /** Timeout of one HTTP attempt. Default 30000. */
  timeout?: number;
  /** Log each request and retry to the console. Default false. */
  debug?: boolean;
  /** Attempts in all for a request that may be retried (see PushFloServer). Default 3; 0 and 1 mean one attempt. */
  retryAttempts?: number;

  /**
   * pushflo: more base URLs of the same cluster. A request that finds a
   * node unable to serve (`503 UNAVAILABLE`, no answer) is retried on the
   * next one; the node that last answered is tried first.
   */
  baseUrls?: string[];
  /** pushflo: first retry delay, doubling with jitter. Default 250. */
  retryDelay?: number;
  /**
   * pushflo: give each publish a random Idempotency-Key unless one is
   * passed, so that a retry after a lost answer never appends twice.
   * Default true. With false, a publish without a key is never retried
   * after an answer that leaves its outcome unknown.
   */
  autoIdempotencyKey?: boolean;
  /** pushflo: fetch function. Default `globalThis.fetch` (Node 18+). */
  fetch?: FetchFunction;
}

/** PublishOptions are the optional parts of a publish. */
export interface PublishOptions {
  /** 1–64 characters. Default "message". */
  eventType?: string;
  /** pushflo: the publisher's client ID, delivered with the message. */
  clientId?: string;
  /**
   * pushflo: the server returns the first result for a repeated key on one
   * channel instead of appending twice. Default: a random key per
   * `publish` call (see `autoIdempotencyKey`).
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

/** Pagination describes one page of a list. */
export interface Pagination {
  /** 1-based. */
  page: number;
  pageSize: number;
  total: number;
  totalPages: number;
}

/** MessageHistoryOptions select a page of history, newest first. */
export interface MessageHistoryOptions {
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

/** HistoryOptions is MessageHistoryOptions under its earlier pushflo name. */
export type HistoryOptions = MessageHistoryOptions;

/** MessageHistory is one page of history, newest first. */
export interface MessageHistory<T = Record<string, unknown>> {
  messages: Message<T>[];
  pagination: Pagination;
  /** @deprecated the same array as `messages`, under the name earlier pushflo releases used. */
  items: Message<T>[];
}

/** MessagesSince is the catch-up answer: messages after an ID, oldest first. */
export interface MessagesSince<T = Record<string, unknown>> {
  items: Message<T>[];
  /** False when messages after the ID were already removed by retention; `gap` says which. */
  complete: boolean;
  gap?: Gap;
}

/** Channel is a channel's settings and counters. */
export interface Channel {
  id: string;
  name: string;
  slug: string;
  description: string | null;
  isPrivate: boolean;
  metadata: Record<string, unknown> | null;
  messageCount: number;
  createdAt: string;
  updatedAt: string;
}

/** ChannelInput creates a channel. */
export interface ChannelInput {
  name: string;
  slug: string;
  description?: string;
  isPrivate?: boolean;
  metadata?: Record<string, unknown>;
}

/** ChannelUpdateInput changes the given fields of a channel. */
export interface ChannelUpdateInput {
  name?: string;
  description?: string | null;
  isPrivate?: boolean;
  metadata?: Record<string, unknown> | null;
}

/** ListChannelsOptions select a page of channels. */
export interface ListChannelsOptions {
  page?: number;
  pageSize?: number;
}

/** ChannelList is one page of channels. */
export interface ChannelList {
  channels: Channel[];
  pagination: Pagination;
  /** @deprecated the same array as `channels`, under the name earlier pushflo releases used. */
  items: Channel[];
}

/** TokenOptions describe a connection token to mint. */
export interface TokenOptions {
  /** The publish key the token stands in for. Required. */
  publishKey: string;
  clientId?: string;
  /** Channels (including private ones) the token may subscribe to. */
  channels?: string[];
  /** Lifetime in seconds. */
  ttl?: number;
}

/** ConnectionToken is a minted token, for a browser's `publishKey` or `getToken`. */
export interface ConnectionToken {
  token: string;
  expiresAt: string;
  endpoint: string;
  clientId: string;
}

const hostedApi = /^https:\/\/api\.pushflo\.dev\/?$/;
const emptyPage: Pagination = { page: 1, pageSize: 0, total: 0, totalPages: 0 };

/**
 * PushFloServer is the backend half of the SDK, with the API of
 * `@pushflodev/sdk`'s server client. Every method is one REST call;
 * `publish` resolves after the message is committed by a majority of the
 * cluster. Reads are retried after network errors, 429 and 5xx. A publish
 * is retried after `503 UNAVAILABLE` and 429, which say it was not
 * applied, on the next base URL when there are several; after no answer,
 * other 5xx or `503 OUTCOME_UNKNOWN` only when it carries an
 * Idempotency-Key (every publish does unless `autoIdempotencyKey` is
 * false), so a retry never appends twice.
 */
export class PushFloServer {
  private readonly realtime: Requester;
  private readonly console: Requester;
  private readonly autoKey: boolean;

  constructor(options: ServerOptions) {
    if (!options || typeof options.secretKey !== 'string' || options.secretKey === '') {
      throw new AuthenticationError('Secret key is required', 'MISSING_SECRET_KEY');
    }
    if (!options.secretKey.startsWith('sec_') && !options.secretKey.startsWith('mgmt_')) {
      throw AuthenticationError.invalidKey('secret');
    }
    const problems: string[] = [];
    let field: string | undefined;
    const url = (name: string, v: unknown): string => {
      if (typeof v !== 'string' || !/^https?:\/\//.test(v)) {
        field ??= name;
        problems.push(`${name} ${JSON.stringify(v)} must be an http:// or https:// URL`);
        return '';
      }
      return v.replace(/\/+$/, '');
    };
    const baseUrl = url('baseUrl', options.baseUrl || defaults.baseUrl);
    const more = (options.baseUrls ?? []).map((u, i) => url(`baseUrls[${i}]`, u));
    const consoleUrl = url(
      'consoleUrl',
      options.consoleUrl || (options.baseUrl && !hostedApi.test(options.baseUrl) ? options.baseUrl : defaults.consoleUrl),
    );
    const f = options.fetch ?? (typeof fetch === 'function' ? fetch.bind(globalThis) : undefined);
    if (!f) {
      field ??= 'fetch';
      problems.push('no global fetch: pass the fetch option');
    }
    if (problems.length > 0) throw new ValidationError(`invalid PushFloServer options: ${problems.join('; ')}`, field);
    const common = {
      key: options.secretKey,
      fetch: f!,
      timeout: options.timeout ?? 30000,
      attempts: Math.max(1, options.retryAttempts ?? 3),
      retryDelay: options.retryDelay ?? 250,
      log: options.debug ? (...args: unknown[]) => console.debug('[PushFlo REST]', ...args) : () => {},
    };
    const baseUrls = [...new Set([baseUrl, ...more])];
    this.realtime = new Requester({ ...common, baseUrls });
    this.console = consoleUrl === baseUrl ? this.realtime : new Requester({ ...common, baseUrls: [consoleUrl] });
    this.autoKey = options.autoIdempotencyKey ?? true;
  }

  /**
   * publish appends `content` (a JSON object) to `channel` and resolves once
   * a majority of the cluster has committed it. Any protocol-valid channel
   * name works, including ones `@pushflodev/sdk`'s slug check refuses
   * (`orders:user-123`).
   */
  async publish(channel: string, content: Record<string, unknown>, options: PublishOptions = {}): Promise<PublishResult> {
    checkChannel(channel);
    if (content === null || typeof content !== 'object' || Array.isArray(content)) {
      throw new ValidationError(`content must be a JSON object, got ${Array.isArray(content) ? 'an array' : content === null ? 'null' : typeof content}`, 'content');
    }
    const body: Record<string, unknown> = { content, eventType: options.eventType ?? 'message' };
    if (options.clientId !== undefined) body.clientId = options.clientId;
    const key = options.idempotencyKey ?? (this.autoKey ? randomKey() : undefined);
    const r = await this.realtime.request<PublishResult>('POST', messagesPath(channel), {
      body,
      headers: key !== undefined ? { 'Idempotency-Key': key } : {},
      retry: 'publish',
    });
    return r.data;
  }

  /** getMessageHistory returns one page of a channel's history, newest first, as `{ messages, pagination }`. */
  async getMessageHistory<T = Record<string, unknown>>(channel: string, options: MessageHistoryOptions = {}): Promise<MessageHistory<T>> {
    checkChannel(channel);
    const q = { page: options.page, pageSize: options.pageSize ?? 25, eventType: options.eventType, after: options.after, before: options.before };
    const r = await this.realtime.request<any>('GET', messagesPath(channel) + query(q), { retry: 'idempotent' });
    const data = r.data ?? {};
    const messages: Message<T>[] = Array.isArray(data) ? data : (data.items ?? data.messages ?? []);
    return { messages, pagination: data.pagination ?? r.body?.pagination ?? emptyPage, items: messages };
  }

  /**
   * getMessagesSince (pushflo) returns the messages after `messageId`,
   * oldest first, for catching up; `complete` is false (with `gap`) when
   * some were already removed by retention.
   */
  async getMessagesSince<T = Record<string, unknown>>(channel: string, messageId: string, options: { limit?: number } = {}): Promise<MessagesSince<T>> {
    checkChannel(channel);
    const r = await this.realtime.request<any>('GET', messagesPath(channel) + query({ since: messageId, limit: options.limit }), { retry: 'idempotent' });
    const data = r.data ?? {};
    const out: MessagesSince<T> = {
      items: Array.isArray(data) ? data : (data.items ?? []),
      complete: (data.complete ?? r.body?.complete) !== false,
    };
    const gap = data.gap ?? r.body?.gap;
    if (gap) out.gap = gap;
    return out;
  }

  /** listChannels returns one page of channels as `{ channels, pagination }`. */
  async listChannels(options: ListChannelsOptions = {}): Promise<ChannelList> {
    const q = { page: options.page, pageSize: options.pageSize ?? 25 };
    const r = await this.console.request<any>('GET', `/api/v1/channels${query(q)}`, { retry: 'idempotent' });
    const data = r.data;
    const channels: Channel[] = Array.isArray(data) ? data : (data?.items ?? data?.channels ?? []);
    return { channels, pagination: r.body?.pagination ?? data?.pagination ?? emptyPage, items: channels };
  }

  /** getChannel returns one channel; a NotFoundError (a NetworkError with statusCode 404) if it does not exist. */
  async getChannel(slug: string): Promise<Channel> {
    checkChannel(slug);
    return (await this.console.request<Channel>('GET', channelPath(slug), { retry: 'idempotent' })).data;
  }

  /** createChannel creates a channel; it fails with CONFLICT (409) if it exists. */
  async createChannel(input: ChannelInput): Promise<Channel> {
    if (!input || typeof input !== 'object') throw ValidationError.required('input');
    checkChannel(input.slug, 'slug');
    return (await this.console.request<Channel>('POST', '/api/v1/channels', { body: input, retry: 'never' })).data;
  }

  /** updateChannel changes the given fields of a channel. */
  async updateChannel(slug: string, input: ChannelUpdateInput): Promise<Channel> {
    checkChannel(slug);
    return (await this.console.request<Channel>('PATCH', channelPath(slug), { body: input, retry: 'idempotent' })).data;
  }

  /** deleteChannel deletes a channel. */
  async deleteChannel(slug: string): Promise<void> {
    checkChannel(slug);
    await this.console.request<unknown>('DELETE', channelPath(slug), { retry: 'idempotent' });
  }

  /**
   * createToken (pushflo) mints a signed, expiring connection token that a
   * browser can use in place of the publish key (or return from
   * `getToken`), and that may grant private channels.
   */
  async createToken(options: TokenOptions): Promise<ConnectionToken> {
    return (await this.realtime.request<ConnectionToken>('POST', '/api/v1/auth/token', { body: options, retry: 'idempotent' })).data;
  }
}

function messagesPath(channel: string): string {
  return `${channelPath(channel)}/messages`;
}

function channelPath(channel: string): string {
  return `/api/v1/channels/${encodeURIComponent(channel)}`;
}

function checkChannel(channel: string, field = 'channel'): void {
  const problem = channelProblem(channel);
  if (problem) throw new ValidationError(problem, field);
}

function query(params: object): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params as Record<string, unknown>)) {
    if (v === undefined || v === null) continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}
