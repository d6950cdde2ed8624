import { backoffDelay } from './backoff.js';
import { Emitter, safeCall } from './emitter.js';
import { NetworkError, PushFloError, ValidationError } from './errors.js';
import { channelProblem, isAfter } from './ids.js';
import type { Log, Transport, TransportHandlers } from './transport.js';
import { SSETransport } from './transport-sse.js';
import { WebSocketTransport } from './transport-ws.js';
import type {
  ClientEvents,
  ClientOptions,
  ConnectionState,
  Gap,
  Message,
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
    | 'publishKey'
    | 'autoConnect'
    | 'connectionTimeout'
    | 'heartbeatInterval'
    | 'autoReconnect'
    | 'maxReconnectAttempts'
    | 'reconnectDelay'
    | 'maxReconnectDelay'
    | 'debug'
    | 'transports'
    | 'sseFallbackAfter'
    | 'websocketRetryInterval'
    | 'sseEventTypes'
  >
> &
  Pick<ClientOptions, 'WebSocket' | 'EventSource' | 'fetch'> & { baseUrl: string };

/**
 * PushFloClient is the browser (and Node) subscriber. It keeps one
 * connection, re-subscribes every channel after each reconnect, resuming
 * after the last message ID it delivered per channel, and never calls
 * `onMessage` twice for one message ID. WebSocket is tried first; after
 * `sseFallbackAfter` consecutive WebSocket failures it falls back to SSE
 * and probes WebSocket again every `websocketRetryInterval`.
 *
 * All callbacks run on the event loop, one at a time, in channel order.
 */
export class PushFloClient {
  private readonly opts: Resolved;
  private readonly events = new Emitter<ClientEvents>();
  private readonly channels = new Map<string, ChannelState>();
  private state: ConnectionState = 'disconnected';
  private conn: Transport | undefined;
  private probe: Transport | undefined;
  private transportKind: TransportKind | undefined;
  private wanted = false;
  private attempts = 0;
  private primaryFailures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private probeTimer: ReturnType<typeof setTimeout> | undefined;
  private waiters: Waiter[] = [];
  private pending: Promise<void> | undefined;
  private everConnected = false;
  private currentClientId: string | undefined;
  private readonly log: Log;
  private readonly onOnline: () => void;
  private listeningOnline = false;

  constructor(options: ClientOptions) {
    this.opts = resolveOptions(options);
    this.log = this.opts.debug ? (...args) => console.log('[pushflo]', ...args) : () => {};
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

  /** clientId is the ID the server gave this connection (WebSocket only). */
  get clientId(): string | undefined {
    return this.currentClientId;
  }

  /** transport is the kind of the open (or opening) connection, if any. */
  get transport(): TransportKind | undefined {
    return this.transportKind;
  }

  /** getTransport returns the kind of the open (or opening) connection, if any. */
  getTransport(): TransportKind | undefined {
    return this.transportKind;
  }

  /**
   * connect opens the connection and resolves once it is open. Calling it
   * while connecting or connected returns the same promise. It rejects when
   * the client gives up: a rejected key, `maxReconnectAttempts` used up,
   * `autoReconnect: false` and the attempt failed, or `disconnect()`.
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
    }
    return p;
  }

  /**
   * disconnect closes the connection and stops reconnecting. Subscriptions
   * and their last message IDs are kept: `connect()` resumes them.
   */
  disconnect(): void {
    const was = this.state;
    this.wanted = false;
    this.watchOnline(false);
    this.clearTimers();
    this.dropTransport();
    this.dropProbe();
    for (const ch of this.channels.values()) ch.subscribed = false;
    this.setState('disconnected');
    if (was === 'connected') this.events.emit('disconnected', { reason: 'client disconnected' });
    this.settle(new PushFloError('disconnect() was called before the connection opened', 'CONNECTION_ERROR'));
  }

  /** destroy disconnects and forgets every subscription and listener. */
  destroy(): void {
    this.disconnect();
    for (const [channel, ch] of this.channels) {
      for (const e of ch.entries) safeCall(e.opts.onUnsubscribed, { channel });
    }
    this.channels.clear();
    this.events.clear();
  }

  /**
   * subscribe starts delivering a channel's messages to `options.onMessage`.
   * Several subscriptions to one channel share one server subscription and
   * each sees every message once. Throws ValidationError for a name the
   * protocol does not allow.
   */
  subscribe<T = Record<string, unknown>>(channel: string, options: SubscriptionOptions<T> = {}): Subscription {
    const problem = channelProblem(channel);
    if (problem) throw new ValidationError(problem);
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
        if (state.entries.has(entry) && state.subscribed) safeCall(options.onSubscribed, { channel });
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

  /** getSubscribedChannels lists the channels with at least one subscription. */
  getSubscribedChannels(): string[] {
    return [...this.channels.keys()];
  }

  /** getLastMessageId returns the last message ID delivered on a channel, the point a resume starts after. */
  getLastMessageId(channel: string): string | undefined {
    return this.channels.get(channel)?.lastId;
  }

  /** onConnectionChange calls `listener` with every new state and returns a function that stops it. */
  onConnectionChange(listener: (state: ConnectionState) => void): () => void {
    return this.events.on('stateChange', listener);
  }

  /** on adds an event listener and returns a function that removes it. */
  on<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): () => void {
    return this.events.on(event, listener);
  }

  /** off removes an event listener. */
  off<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): void {
    this.events.off(event, listener);
  }

  // ---- connection life cycle ----

  private removeEntry(channel: string, entry: Entry): void {
    const ch = this.channels.get(channel);
    if (!ch || !ch.entries.delete(entry)) return;
    safeCall(entry.opts.onUnsubscribed, { channel });
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

  private startAttempt(): void {
    this.retryTimer = undefined;
    if (!this.wanted) return;
    const kind = this.chooseKind();
    this.setState(this.everConnected || this.attempts > 0 ? 'reconnecting' : 'connecting');
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
            url: `${o.baseUrl.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(o.publishKey)}`,
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
        token: o.publishKey,
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

  private onOpen(t: Transport, info: { clientId?: string }): void {
    if (t !== this.conn) return;
    this.attempts = 0;
    if (t.kind === this.primary()) this.primaryFailures = 0;
    this.everConnected = true;
    this.currentClientId = info.clientId;
    this.log(`connected over ${t.kind}`);
    this.setState('connected');
    this.events.emit('connected', info.clientId === undefined ? { transport: t.kind } : { clientId: info.clientId, transport: t.kind });
    this.settle();
    if (t.kind !== this.primary()) this.scheduleProbe();
  }

  private onClose(t: Transport, info: { opened: boolean; reason: string; fatal?: PushFloError }): void {
    if (t !== this.conn) return;
    this.conn = undefined;
    this.currentClientId = undefined;
    for (const ch of this.channels.values()) ch.subscribed = false;
    if (!info.opened && t.kind === this.primary()) this.primaryFailures++;
    const wasConnected = this.state === 'connected';
    if (wasConnected) this.events.emit('disconnected', { reason: info.reason });
    if (info.fatal) {
      this.giveUp(info.fatal);
      return;
    }
    if (!this.opts.autoReconnect) {
      this.wanted = false;
      this.watchOnline(false);
      this.dropProbe();
      this.transportKind = undefined;
      this.setState('disconnected');
      this.settle(new NetworkError(`connection failed: ${info.reason}`, 'CONNECTION_ERROR'));
      return;
    }
    this.attempts++;
    if (this.attempts > this.opts.maxReconnectAttempts) {
      this.giveUp(new NetworkError(`gave up after ${this.attempts} failed attempts; last: ${info.reason}`, 'CONNECTION_ERROR'));
      return;
    }
    const delay = backoffDelay(this.attempts, this.opts.reconnectDelay, this.opts.maxReconnectDelay);
    this.log(`${info.reason}; retrying in ${delay} ms`);
    this.setState('reconnecting');
    this.retryTimer = setTimeout(() => this.startAttempt(), delay);
  }

  private giveUp(err: PushFloError): void {
    this.wanted = false;
    this.watchOnline(false);
    this.clearTimers();
    this.dropProbe();
    this.transportKind = undefined;
    this.setState('error');
    this.events.emit('error', err);
    this.settle(err);
  }

  /** scheduleProbe tries the primary transport again later, while on the fallback. */
  private scheduleProbe(): void {
    if (this.probeTimer || this.probe || this.opts.websocketRetryInterval <= 0 || this.primary() !== 'websocket') return;
    this.probeTimer = setTimeout(() => this.runProbe(), this.opts.websocketRetryInterval);
  }

  private runProbe(): void {
    this.probeTimer = undefined;
    if (!this.wanted) return;
    this.log('probing websocket');
    const p: Transport = this.makeTransport('websocket', {
      open: () => {
        if (p !== this.probe) return;
        this.probe = undefined;
        this.adopt(p);
      },
      close: () => {
        if (p !== this.probe) return;
        this.probe = undefined;
        this.scheduleProbe();
      },
    });
    this.probe = p;
  }

  /** adopt makes a successful probe the connection, replacing the fallback. */
  private adopt(p: Transport): void {
    this.log('websocket works again; leaving', this.transportKind);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const old = this.conn;
    // Deliveries stop from the old transport the moment it is replaced;
    // the new one resumes every channel after its last delivered ID.
    this.conn = p;
    this.transportKind = p.kind;
    old?.close();
    for (const ch of this.channels.values()) ch.subscribed = false;
    for (const [channel, ch] of this.channels) p.subscribe(channel, ch.lastId);
    this.attempts = 0;
    this.primaryFailures = 0;
    this.everConnected = true;
    if (this.state !== 'connected') this.setState('connected');
    this.events.emit('transportChange', p.kind);
    this.events.emit('connected', { transport: p.kind });
    this.settle();
  }

  private dropTransport(): void {
    const t = this.conn;
    this.conn = undefined;
    this.transportKind = undefined;
    this.currentClientId = undefined;
    t?.close();
  }

  private dropProbe(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    const p = this.probe;
    this.probe = undefined;
    p?.close();
  }

  private watchOnline(on: boolean): void {
    const w = (globalThis as any).window;
    if (!w || typeof w.addEventListener !== 'function' || on === this.listeningOnline) return;
    this.listeningOnline = on;
    if (on) w.addEventListener('online', this.onOnline);
    else w.removeEventListener('online', this.onOnline);
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
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
    this.events.emit('stateChange', s);
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
    this.events.emit('message', m);
  }

  private onSubscribed(channel: string, recovered: boolean | undefined): void {
    const ch = this.channels.get(channel);
    if (!ch) return;
    ch.subscribed = true;
    const info: { channel: string; recovered?: boolean } = { channel };
    if (recovered !== undefined) info.recovered = recovered;
    for (const e of [...ch.entries]) safeCall(e.opts.onSubscribed, info);
  }

  private onGap(g: Gap): void {
    const ch = this.channels.get(g.channel);
    if (ch) for (const e of [...ch.entries]) safeCall(e.opts.onGap, g);
    this.events.emit('gap', g);
  }

  private onChannelError(err: PushFloError): void {
    const ch = err.channel !== undefined ? this.channels.get(err.channel) : undefined;
    if (ch) for (const e of [...ch.entries]) safeCall(e.opts.onError, err);
    this.events.emit('error', err);
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
  const problems: string[] = [];
  if (!o || typeof o.publishKey !== 'string' || o.publishKey === '') problems.push('publishKey is required (a pub_ key or a connection token)');
  let baseUrl = o?.baseUrl;
  if (!baseUrl) {
    const loc = (globalThis as any).location;
    if (loc && typeof loc.origin === 'string' && /^https?:/.test(loc.origin)) baseUrl = loc.origin;
    else problems.push('baseUrl is required outside a browser page (e.g. "http://127.0.0.1:8080")');
  } else if (!/^(https?|wss?):\/\//.test(baseUrl)) {
    problems.push(`baseUrl ${JSON.stringify(baseUrl)} must start with http://, https://, ws:// or wss://`);
  }
  const transports = o?.transports ?? ['websocket', 'sse'];
  if (!Array.isArray(transports) || transports.length === 0 || transports.some((t) => t !== 'websocket' && t !== 'sse')) {
    problems.push(`transports ${JSON.stringify(transports)} must list one or both of "websocket" and "sse"`);
  }
  const num = (name: keyof ClientOptions, def: number, min: number): number => {
    const v = o?.[name];
    if (v === undefined) return def;
    if (typeof v !== 'number' || Number.isNaN(v) || v < min) {
      problems.push(`${name} is ${JSON.stringify(v)}; it must be a number of at least ${min}`);
      return def;
    }
    return v;
  };
  const r: Resolved = {
    publishKey: o?.publishKey,
    baseUrl: (baseUrl ?? '').replace(/\/+$/, '').replace(/^ws/, 'http'),
    autoConnect: o?.autoConnect ?? true,
    connectionTimeout: num('connectionTimeout', 10000, 1),
    heartbeatInterval: num('heartbeatInterval', 25000, 1),
    autoReconnect: o?.autoReconnect ?? true,
    maxReconnectAttempts: num('maxReconnectAttempts', Infinity, 0),
    reconnectDelay: num('reconnectDelay', 1000, 0),
    maxReconnectDelay: num('maxReconnectDelay', 30000, 0),
    debug: o?.debug ?? false,
    transports: [...new Set(transports)],
    sseFallbackAfter: num('sseFallbackAfter', 3, 1),
    websocketRetryInterval: num('websocketRetryInterval', 60000, 0),
    sseEventTypes: o?.sseEventTypes ?? [],
  };
  if (problems.length > 0) throw new ValidationError(`invalid PushFloClient options: ${problems.join('; ')}`);
  if (o.WebSocket) r.WebSocket = o.WebSocket;
  if (o.EventSource) r.EventSource = o.EventSource;
  if (o.fetch) r.fetch = o.fetch;
  return r;
}
