import { backoffDelay } from './backoff.js';
import { TypedEventEmitter, safeCall } from './emitter.js';
import { AuthenticationError, ConnectionError, PushFloError, ValidationError } from './errors.js';
import { channelProblem, isAfter } from './ids.js';
import { defaults } from './defaults.js';
import { tokenExpiry } from './token.js';
import type { CloseInfo, Log, OpenInfo, Transport, TransportHandlers } from './transport.js';
import { SSETransport } from './transport-sse.js';
import { WebSocketTransport } from './transport-ws.js';
import type {
  ClientEvents,
  ClientOptions,
  ConnectionState,
  Gap,
  Message,
  SubscribedInfo,
  Subscription,
  SubscriptionOptions,
  TransportKind,
} from './types.js';

interface Entry {
  opts: SubscriptionOptions<any>;
}

/** ChannelState is what the client keeps per channel across connections. */
interface ChannelState {
  entries: Set<Entry>;
  /** The last message ID delivered to onMessage; resume starts after it. */
  lastId?: string;
  /** Whether the server has confirmed the subscription on the current connection. */
  subscribed: boolean;
}

interface Waiter {
  resolve(): void;
  reject(err: PushFloError): void;
}

type Resolved = Required<
  Pick<
    ClientOptions,
    | 'autoConnect'
    | 'connectionTimeout'
    | 'heartbeatInterval'
    | 'autoReconnect'
    | 'reconnectDelay'
    | 'maxReconnectDelay'
    | 'debug'
    | 'transports'
    | 'sseFallbackAfter'
    | 'websocketRetryInterval'
    | 'sseEventTypes'
    | 'connectWaitsForRetries'
    | 'tokenRefreshMargin'
  >
> &
  Pick<ClientOptions, 'WebSocket' | 'EventSource' | 'fetch' | 'getToken'> & {
    baseUrl: string;
    /** Consecutive failed attempts allowed before giving up (Infinity: never). */
    retryLimit: number;
  };

/**
 * PushFloClient is the browser (and Node) subscriber, with the API of
 * `@pushflodev/sdk`'s client. It keeps one connection, re-subscribes every
 * channel after each reconnect, resuming after the last message ID it
 * delivered per channel, and never calls `onMessage` twice for one message
 * ID. WebSocket is tried first; after `sseFallbackAfter` consecutive
 * WebSocket failures it falls back to SSE and probes WebSocket again every
 * `websocketRetryInterval`.
 *
 * All callbacks run on the event loop, one at a time, in channel order.
 */
export class PushFloClient extends TypedEventEmitter<ClientEvents> {
  private readonly opts: Resolved;
  private readonly channels = new Map<string, ChannelState>();
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  private state: ConnectionState = 'disconnected';
  private conn: Transport | undefined;
  /** A second transport being tried (a WebSocket probe, or a connection with a fresh token); adopted when it opens. */
  private spare: Transport | undefined;
  private transportKind: TransportKind | undefined;
  private wanted = false;
  private retrying = false;
  private attempts = 0;
  private attemptSeq = 0;
  private primaryFailures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private probeTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private waiters: Waiter[] = [];
  private pending: Promise<void> | undefined;
  private currentClientId: string | null = null;
  /** The publish key or connection token the next connection uses. */
  private token: string;
  /** Set when the token must be replaced (through getToken) before the next attempt. */
  private tokenStale = false;
  /** Set once a refused token was replaced since the last successful connection. */
  private tokenRetried = false;
  private readonly log: Log;
  private readonly onOnline: () => void;
  private listeningOnline = false;

  constructor(options: ClientOptions) {
    super();
    this.opts = resolveOptions(options);
    this.token = options.publishKey ?? '';
    this.log = this.opts.debug ? (...args) => console.log('[PushFlo]', ...args) : () => {};
    this.onOnline = () => {
      // The browser says the network is back: skip the rest of the backoff.
      if (this.wanted && this.retryTimer) {
        clearTimeout(this.retryTimer);
        this.startAttempt();
      }
    };
    if (this.opts.autoConnect) {
      // After the constructor returns, so listeners added right away see every state.
      queueMicrotask(() => {
        if (this.state === 'disconnected' && !this.wanted) this.connect().catch(() => {});
      });
    }
  }

  /** connectionState is the current state of the connection. */
  get connectionState(): ConnectionState {
    return this.state;
  }

  /** getConnectionState returns the current state of the connection. */
  getConnectionState(): ConnectionState {
    return this.state;
  }

  /** isConnected is true while a transport is open. */
  get isConnected(): boolean {
    return this.state === 'connected';
  }

  /**
   * isReconnecting (pushflo) is true while the client is retrying after a
   * drop or a failed attempt: waiting out a backoff (state `disconnected`
   * or `error`) or trying again (`connecting`).
   */
  get isReconnecting(): boolean {
    return this.retrying;
  }

  /** clientId is the ID the server gave the current WebSocket connection; null before one opens. */
  get clientId(): string | null {
    return this.currentClientId;
  }

  /** transport (pushflo) is the kind of the open (or opening) connection, if any. */
  get transport(): TransportKind | undefined {
    return this.transportKind;
  }

  /** getTransport (pushflo) returns the kind of the open (or opening) connection, if any. */
  getTransport(): TransportKind | undefined {
    return this.transportKind;
  }

  /**
   * connect opens the connection and resolves once it is open; when
   * already connected it resolves at once, and while connecting it returns
   * the same promise. It rejects with the first failed attempt's error: a
   * `ConnectionError` (code `CONNECTION_TIMEOUT` after `connectionTimeout`,
   * `CONNECTION_FAILED` otherwise; `retryable` is true) or an
   * `AuthenticationError` for a refused key. With `autoReconnect` the
   * client goes on retrying in the background after a retryable failure;
   * `connectWaitsForRetries` makes connect() wait for those retries.
   */
  connect(): Promise<void> {
    if (this.state === 'connected') return Promise.resolve();
    if (this.pending) return this.pending;
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    // The promise may be ignored (autoConnect); never report it as unhandled.
    p.catch(() => {});
    this.pending = p;
    if (!this.wanted) {
      this.wanted = true;
      this.attempts = 0;
      this.watchOnline(true);
      this.startAttempt();
    } else if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.startAttempt();
    }
    return p;
  }

  /**
   * disconnect closes the connection and stops reconnecting; the
   * `disconnected` event gets the reason "Disconnected by client".
   * Subscriptions and their last message IDs are kept: `connect()` resumes
   * them.
   */
  disconnect(): void {
    const was = this.state;
    const wanted = this.wanted;
    this.stop();
    for (const ch of this.channels.values()) ch.subscribed = false;
    this.setState('disconnected');
    if (was !== 'disconnected' || wanted) this.emit('disconnected', 'Disconnected by client');
    this.settle(new ConnectionError('disconnect() was called before the connection opened', 'CONNECTION_CLOSED', { retryable: false }));
  }

  /** destroy disconnects and forgets every subscription (calling their `onUnsubscribed`) and listener. */
  destroy(): void {
    this.disconnect();
    for (const [channel, ch] of this.channels) {
      for (const e of ch.entries) safeCall((info) => e.opts.onUnsubscribed?.(info), { channel });
    }
    this.channels.clear();
    this.stateListeners.clear();
    this.removeAllListeners();
  }

  /**
   * subscribe starts delivering a channel's messages to `options.onMessage`,
   * now if connected, otherwise once the connection opens. Several
   * subscriptions to one channel share one server subscription and each
   * sees every message once. Any channel name the protocol allows works
   * (1–128 of `a-z A-Z 0-9 - _ : . @ = ,`); others throw ValidationError.
   * `@pushflodev/sdk` also refuses names outside its stricter slug rule
   * (see `isValidChannelSlug`); this SDK does not.
   */
  subscribe<T = Record<string, unknown>>(channel: string, options: SubscriptionOptions<T> = {}): Subscription {
    const problem = channelProblem(channel);
    if (problem) throw new ValidationError(problem, 'channel');
    const entry: Entry = { opts: options };
    let ch = this.channels.get(channel);
    const isNew = !ch;
    if (!ch) {
      ch = { entries: new Set(), subscribed: false };
      if (options.lastMessageId !== undefined) ch.lastId = options.lastMessageId;
      this.channels.set(channel, ch);
    }
    ch.entries.add(entry);
    if (isNew) {
      this.conn?.subscribe(channel, ch.lastId);
    } else if (ch.subscribed) {
      const state = ch;
      queueMicrotask(() => {
        if (state.entries.has(entry) && state.subscribed) safeCall((info) => options.onSubscribed?.(info), { channel });
      });
    }
    let active = true;
    return {
      channel,
      unsubscribe: () => {
        if (!active) return;
        active = false;
        this.removeEntry(channel, entry);
      },
    };
  }

  /** unsubscribe ends every subscription to a channel. */
  unsubscribe(channel: string): void {
    const ch = this.channels.get(channel);
    if (!ch) return;
    for (const e of [...ch.entries]) this.removeEntry(channel, e);
  }

  /** isSubscribed reports whether the client has a subscription to `channel` (confirmed by the server or not). */
  isSubscribed(channel: string): boolean {
    return this.channels.has(channel);
  }

  /** getSubscribedChannels lists the channels with at least one subscription. */
  getSubscribedChannels(): string[] {
    return [...this.channels.keys()];
  }

  /** getLastMessageId (pushflo) returns the last message ID delivered on a channel, the point a resume starts after. */
  getLastMessageId(channel: string): string | undefined {
    return this.channels.get(channel)?.lastId;
  }

  /** onConnectionChange calls `listener` with every new state and returns a function that stops it. */
  onConnectionChange(listener: (state: ConnectionState) => void): () => boolean {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  // ---- connection life cycle ----

  private removeEntry(channel: string, entry: Entry): void {
    const ch = this.channels.get(channel);
    if (!ch || !ch.entries.delete(entry)) return;
    safeCall((info) => entry.opts.onUnsubscribed?.(info), { channel });
    if (ch.entries.size === 0) {
      this.channels.delete(channel);
      this.conn?.unsubscribe(channel);
    }
  }

  private primary(): TransportKind {
    return this.opts.transports[0]!;
  }

  private chooseKind(): TransportKind {
    const t = this.opts.transports;
    if (t.length > 1 && this.primaryFailures >= this.opts.sseFallbackAfter) return t[1]!;
    return t[0]!;
  }

  /** needsToken reports whether the next connection must first get a token from getToken. */
  private needsToken(): boolean {
    if (!this.opts.getToken) return false;
    if (this.token === '' || this.tokenStale) return true;
    const exp = tokenExpiry(this.token);
    return exp !== undefined && exp - Date.now() < 1000;
  }

  private startAttempt(): void {
    this.retryTimer = undefined;
    if (!this.wanted) return;
    const seq = ++this.attemptSeq;
    this.setState('connecting');
    if (!this.needsToken()) {
      this.openTransport();
      return;
    }
    this.log('asking getToken for a connection token');
    this.fetchToken().then(
      () => {
        if (seq === this.attemptSeq && this.wanted) this.openTransport();
      },
      (err: unknown) => {
        if (seq !== this.attemptSeq || !this.wanted) return;
        const cause = err instanceof Error ? err : new Error(String(err));
        this.attemptFailed(ConnectionError.failed(`getToken failed: ${cause.message}`, cause), false);
      },
    );
  }

  private async fetchToken(): Promise<void> {
    const tok = await this.opts.getToken!();
    if (typeof tok !== 'string' || tok === '') throw new Error('getToken returned no token');
    this.token = tok;
    this.tokenStale = false;
  }

  private openTransport(): void {
    const kind = this.chooseKind();
    this.log(`connecting over ${kind} (attempt ${this.attempts + 1})`);
    const t = this.makeTransport(kind, {
      open: (info) => this.onOpen(t, info),
      close: (info) => this.onClose(t, info),
    });
    this.conn = t;
    this.transportKind = kind;
    for (const [channel, ch] of this.channels) t.subscribe(channel, ch.lastId);
  }

  private makeTransport(kind: TransportKind, life: Pick<TransportHandlers, 'open' | 'close'>): Transport {
    // Every callback checks that its transport is still current, so a late
    // event from a replaced transport can never deliver or change state.
    let self: Transport | undefined;
    const current = () => self !== undefined && self === this.conn;
    const handlers: TransportHandlers = {
      open: life.open,
      close: life.close,
      message: (m) => current() && this.deliver(m),
      subscribed: (c, r) => current() && this.onSubscribed(c, r),
      gap: (g) => current() && this.onGap(g),
      error: (e) => current() && this.onChannelError(e),
    };
    const o = this.opts;
    if (kind === 'websocket') {
      const WS = o.WebSocket ?? (globalThis as any).WebSocket;
      if (!WS) {
        self = new FailedTransport('websocket', 'no WebSocket constructor: pass the WebSocket option (in Node 20, the ws package)', handlers);
      } else {
        self = new WebSocketTransport(
          {
            // frames=lean: the SDK reads only the flat fields of a message
            // frame (see messageFromFrame), so the server leaves out the
            // nested copy; servers without the option ignore it.
            url: `${o.baseUrl.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(this.token)}&frames=lean`,
            WebSocket: WS,
            connectionTimeout: o.connectionTimeout,
            heartbeatInterval: o.heartbeatInterval,
            log: this.log,
          },
          handlers,
        );
      }
    } else {
      const f = o.fetch ?? (typeof fetch === 'function' ? fetch.bind(globalThis) : undefined);
      const cfg: ConstructorParameters<typeof SSETransport>[0] = {
        baseUrl: o.baseUrl,
        token: this.token,
        eventTypes: o.sseEventTypes,
        connectionTimeout: o.connectionTimeout,
        idleTimeout: Math.max(4 * o.heartbeatInterval, 30000),
        log: this.log,
      };
      if (o.EventSource) cfg.EventSource = o.EventSource;
      if (f) cfg.fetch = f;
      self = new SSETransport(cfg, handlers);
    }
    return self;
  }

  private onOpen(t: Transport, info: OpenInfo): void {
    if (t !== this.conn) return;
    this.connected(t, info);
  }

  /** connected records that transport `t` (the current one) is open. */
  private connected(t: Transport, info: OpenInfo): void {
    this.attempts = 0;
    this.retrying = false;
    this.tokenRetried = false;
    if (t.kind === this.primary()) this.primaryFailures = 0;
    this.currentClientId = info.clientId ?? null;
    this.log(`connected over ${t.kind}`);
    this.setState('connected');
    this.emit('connected', { clientId: info.clientId ?? '', timestamp: info.timestamp ?? Date.now(), transport: t.kind });
    this.settle();
    if (t.kind !== this.primary()) this.scheduleProbe();
    this.scheduleTokenRefresh();
  }

  private onClose(t: Transport, info: CloseInfo): void {
    if (t !== this.conn) return;
    this.conn = undefined;
    this.currentClientId = null;
    this.clearRefresh();
    for (const ch of this.channels.values()) ch.subscribed = false;
    if (!info.opened && t.kind === this.primary()) this.primaryFailures++;
    const wasConnected = this.state === 'connected';
    if (wasConnected) {
      this.setState('disconnected');
      this.emit('disconnected', info.reason);
    }
    if (info.fatal) {
      // A refused or expired token: with getToken, get a new one and try again at once (once per connection).
      if (this.opts.getToken && info.fatal instanceof AuthenticationError && !this.tokenRetried) {
        this.log(`token refused (${info.fatal.code}); asking getToken for a new one`);
        this.tokenRetried = true;
        this.tokenStale = true;
        this.startAttempt();
        return;
      }
      this.giveUp(info.fatal);
      return;
    }
    const err = info.timedOut
      ? ConnectionError.timeout(this.opts.connectionTimeout)
      : wasConnected
        ? ConnectionError.closed(info.reason)
        : ConnectionError.failed(info.reason);
    this.attemptFailed(err, wasConnected);
  }

  /** attemptFailed handles a failed attempt, or a drop when `dropped`: report, then retry with backoff or stop. */
  private attemptFailed(err: PushFloError, dropped: boolean): void {
    this.transportKind = undefined;
    if (!dropped) {
      this.setState('error');
      this.emit('error', err);
      if (!this.opts.connectWaitsForRetries || !this.opts.autoReconnect) this.settle(err);
    }
    if (!this.opts.autoReconnect) {
      this.stop();
      return;
    }
    this.attempts++;
    if (this.attempts > this.opts.retryLimit) {
      this.giveUp(new ConnectionError(`Max reconnection attempts exceeded (${this.attempts - 1}); last: ${err.message}`, 'MAX_RECONNECT_ATTEMPTS', {
        retryable: false,
        cause: err,
      }));
      return;
    }
    const delay = backoffDelay(this.attempts, this.opts.reconnectDelay, this.opts.maxReconnectDelay);
    this.log(`${err.message}; retrying in ${delay} ms`);
    this.retrying = true;
    this.emit('reconnecting', { attempt: this.attempts, delay });
    this.retryTimer = setTimeout(() => this.startAttempt(), delay);
  }

  private giveUp(err: PushFloError): void {
    this.stop();
    this.setState('error');
    this.emit('error', err);
    this.settle(err);
  }

  /** stop ends every transport and timer and stops wanting a connection. */
  private stop(): void {
    this.wanted = false;
    this.retrying = false;
    this.attemptSeq++;
    this.watchOnline(false);
    this.clearTimers();
    this.dropSpare();
    const t = this.conn;
    this.conn = undefined;
    this.transportKind = undefined;
    this.currentClientId = null;
    t?.close();
  }

  /** scheduleProbe tries the primary transport again later, while on the fallback. */
  private scheduleProbe(): void {
    if (this.probeTimer || this.spare || this.opts.websocketRetryInterval <= 0 || this.primary() !== 'websocket') return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      if (!this.wanted) return;
      this.log('probing websocket');
      this.trySpare('websocket', true);
    }, this.opts.websocketRetryInterval);
  }

  /**
   * scheduleTokenRefresh arranges, when getToken is set and the token has
   * an `exp`, to fetch a new token `tokenRefreshMargin` before it runs out
   * and move to a new connection that uses it.
   */
  private scheduleTokenRefresh(): void {
    this.clearRefresh();
    if (!this.opts.getToken) return;
    const exp = tokenExpiry(this.token);
    if (exp === undefined) return;
    const lifetime = exp - Date.now();
    const margin = Math.min(this.opts.tokenRefreshMargin, lifetime / 2);
    const delay = Math.max(1000, lifetime - margin);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      if (!this.wanted || this.state !== 'connected' || this.spare) return;
      this.log('token expires soon; asking getToken for a new one');
      const seq = this.attemptSeq;
      this.fetchToken().then(
        () => {
          if (seq === this.attemptSeq && this.wanted && this.conn && !this.spare) this.trySpare(this.conn.kind, false);
        },
        (err: unknown) => {
          // Keep the connection; the server closes it at expiry and the reconnect asks again.
          this.emit('error', new AuthenticationError(`getToken failed: ${err instanceof Error ? err.message : String(err)}`, 'TOKEN_REFRESH_FAILED'));
        },
      );
    }, delay);
  }

  /** trySpare opens a second transport beside the current one and adopts it if it opens. */
  private trySpare(kind: TransportKind, isProbe: boolean): void {
    const p: Transport = this.makeTransport(kind, {
      open: (info) => {
        if (p !== this.spare) return;
        this.spare = undefined;
        this.adopt(p, info);
      },
      close: () => {
        if (p !== this.spare) return;
        this.spare = undefined;
        if (isProbe) this.scheduleProbe();
      },
    });
    this.spare = p;
  }

  /** adopt makes an opened spare transport the connection, replacing the old one. */
  private adopt(p: Transport, info: OpenInfo): void {
    this.log(`moving from ${this.transportKind} to a new ${p.kind} connection`);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const old = this.conn;
    const changed = p.kind !== this.transportKind;
    // Deliveries stop from the old transport the moment it is replaced;
    // the new one resumes every channel after its last delivered ID.
    this.conn = p;
    this.transportKind = p.kind;
    old?.close();
    for (const ch of this.channels.values()) ch.subscribed = false;
    for (const [channel, ch] of this.channels) p.subscribe(channel, ch.lastId);
    if (changed) this.emit('transportChange', p.kind);
    this.connected(p, info);
  }

  private dropSpare(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    const p = this.spare;
    this.spare = undefined;
    p?.close();
  }

  private watchOnline(on: boolean): void {
    const w = (globalThis as any).window;
    if (!w || typeof w.addEventListener !== 'function' || on === this.listeningOnline) return;
    this.listeningOnline = on;
    if (on) w.addEventListener('online', this.onOnline);
    else w.removeEventListener('online', this.onOnline);
  }

  private clearRefresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.clearRefresh();
  }

  private settle(err?: PushFloError): void {
    const waiters = this.waiters;
    this.waiters = [];
    this.pending = undefined;
    for (const w of waiters) {
      if (err) w.reject(err);
      else w.resolve();
    }
  }

  private setState(s: ConnectionState): void {
    if (s === this.state) return;
    this.state = s;
    for (const l of [...this.stateListeners]) safeCall(l, s);
    this.emit('stateChange', s);
  }

  // ---- deliveries ----

  private deliver(m: Message): void {
    const ch = this.channels.get(m.channel);
    if (!ch) return;
    // IDs within a channel sort byte-wise in publish order: anything at or
    // before the last delivered ID is a replay overlap, not a new message.
    if (!isAfter(m.id, ch.lastId)) return;
    ch.lastId = m.id;
    for (const e of [...ch.entries]) safeCall(e.opts.onMessage, m);
    this.emit('message', m);
  }

  private onSubscribed(channel: string, recovered: boolean | undefined): void {
    const ch = this.channels.get(channel);
    if (!ch) return;
    ch.subscribed = true;
    const info: SubscribedInfo = { channel };
    if (recovered !== undefined) info.recovered = recovered;
    for (const e of [...ch.entries]) safeCall((i) => e.opts.onSubscribed?.(i), info);
  }

  private onGap(g: Gap): void {
    const ch = this.channels.get(g.channel);
    if (ch) for (const e of [...ch.entries]) safeCall(e.opts.onGap, g);
    this.emit('gap', g);
  }

  private onChannelError(err: PushFloError): void {
    const ch = err.channel !== undefined ? this.channels.get(err.channel) : undefined;
    if (ch) for (const e of [...ch.entries]) safeCall(e.opts.onError, err);
    this.emit('error', err);
  }
}

/** FailedTransport reports a failure it knew about before trying, on the next tick. */
class FailedTransport implements Transport {
  private closed = false;
  constructor(readonly kind: TransportKind, reason: string, on: TransportHandlers) {
    setTimeout(() => {
      if (!this.closed) on.close({ opened: false, reason });
    }, 0);
  }
  subscribe(): void {}
  unsubscribe(): void {}
  close(): void {
    this.closed = true;
  }
}

function resolveOptions(o: ClientOptions): Resolved {
  if (!o || ((typeof o.publishKey !== 'string' || o.publishKey === '') && typeof o.getToken !== 'function')) {
    throw new AuthenticationError('Publish key is required', 'MISSING_PUBLISH_KEY');
  }
  const problems: string[] = [];
  let field: string | undefined;
  const problem = (name: string, text: string) => {
    field ??= name;
    problems.push(text);
  };
  const baseUrl = o.baseUrl || defaults.baseUrl;
  if (!/^(https?|wss?):\/\//.test(baseUrl)) {
    problem('baseUrl', `baseUrl ${JSON.stringify(baseUrl)} must start with http://, https://, ws:// or wss://`);
  }
  const transports = o.transports ?? ['websocket', 'sse'];
  if (!Array.isArray(transports) || transports.length === 0 || transports.some((t) => t !== 'websocket' && t !== 'sse')) {
    problem('transports', `transports ${JSON.stringify(transports)} must list one or both of "websocket" and "sse"`);
  }
  const num = (name: keyof ClientOptions, def: number, min: number): number => {
    const v = o[name];
    if (v === undefined) return def;
    if (typeof v !== 'number' || Number.isNaN(v) || v < min) {
      problem(name, `${name} is ${JSON.stringify(v)}; it must be a number of at least ${min}`);
      return def;
    }
    return v;
  };
  const maxReconnectAttempts = num('maxReconnectAttempts', 0, 0);
  const r: Resolved = {
    baseUrl: baseUrl.replace(/\/+$/, '').replace(/^ws/, 'http'),
    autoConnect: o.autoConnect ?? false,
    connectionTimeout: num('connectionTimeout', 30000, 1),
    heartbeatInterval: num('heartbeatInterval', 25000, 1),
    autoReconnect: o.autoReconnect ?? true,
    retryLimit: o.maxRetries !== undefined ? num('maxRetries', Infinity, 0) : maxReconnectAttempts === 0 ? Infinity : maxReconnectAttempts,
    reconnectDelay: num('reconnectDelay', 1000, 0),
    maxReconnectDelay: num('maxReconnectDelay', 30000, 0),
    debug: o.debug ?? false,
    transports: [...new Set(transports)],
    sseFallbackAfter: num('sseFallbackAfter', 3, 1),
    websocketRetryInterval: num('websocketRetryInterval', 60000, 0),
    sseEventTypes: o.sseEventTypes ?? [],
    connectWaitsForRetries: o.connectWaitsForRetries ?? false,
    tokenRefreshMargin: num('tokenRefreshMargin', 30000, 0),
  };
  if (problems.length > 0) throw new ValidationError(`invalid PushFloClient options: ${problems.join('; ')}`, field);
  if (o.WebSocket) r.WebSocket = o.WebSocket;
  if (o.EventSource) r.EventSource = o.EventSource;
  if (o.fetch) r.fetch = o.fetch;
  if (o.getToken) r.getToken = o.getToken;
  return r;
}
