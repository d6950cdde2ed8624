import type { PushFloError } from './errors.js';

/**
 * Message is one message as delivered to `onMessage`, returned by history
 * and sent on SSE. `id` is opaque; within a channel IDs sort byte-wise in
 * publish order. `T` (pushflo) types `content`; it defaults to the
 * `Record<string, unknown>` of `@pushflodev/sdk`.
 */
export interface Message<T = Record<string, unknown>> {
  id: string;
  channel: string;
  eventType: string;
  clientId: string;
  content: T;
  /** Publish time, Unix milliseconds. */
  timestamp: number;
  /** pushflo: publish time as an ISO 8601 string. Always set on messages the SDK delivers. */
  createdAt?: string;
}

/**
 * Gap tells a subscriber exactly which messages it cannot get back: the
 * ones after `after` and before `before` were removed by retention before
 * the subscriber resumed. Delivery goes on from `before`.
 */
export interface Gap {
  channel: string;
  after: string;
  before: string;
  reason: string;
}

/**
 * ConnectionState is where the client's connection stands, the four states
 * of `@pushflodev/sdk`: `connecting` while an attempt is under way, `error`
 * after an attempt failed or the client gave up, `disconnected` before
 * connecting, after `disconnect()` and after a drop. Whether a retry is
 * pending is `client.isReconnecting` (and the `reconnecting` event).
 */
export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'error';

/** ConnectionInfo comes with the `connected` event. */
export interface ConnectionInfo {
  /** The ID the server gave the connection; empty on SSE, which has none. */
  clientId: string;
  /** The server's time at connect (Unix ms) on WebSocket, the client's on SSE. */
  timestamp: number;
  /** pushflo: the transport that connected. */
  transport?: TransportKind;
}

/** Transport names, in the order the client tries them by default. */
export type TransportKind = 'websocket' | 'sse';

/** A WebSocket constructor: the browser's, or `ws` in Node. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** The part of the WebSocket interface the SDK uses. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: any) => void) | null;
  onmessage: ((ev: { data: any }) => void) | null;
  onerror: ((ev: any) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
}

/** An EventSource constructor: the browser's, or a polyfill such as `eventsource` in Node. */
export type EventSourceConstructor = new (url: string, init?: any) => EventSourceLike;

/** The part of the EventSource interface the SDK uses. */
export interface EventSourceLike {
  readonly readyState: number;
  close(): void;
  onopen: ((ev: any) => void) | null;
  onerror: ((ev: any) => void) | null;
  addEventListener(type: string, listener: (ev: any) => void): void;
}

/** A fetch function, as in the browser or Node 18+. */
export type FetchFunction = (input: string, init?: any) => Promise<any>;

/** TokenSource returns a fresh connection token (or publish key), for `getToken`. */
export type TokenSource = () => string | Promise<string>;

/**
 * ClientOptions configure a PushFloClient. Every duration is in
 * milliseconds. The first group are `@pushflodev/sdk`'s options with its
 * defaults; the rest are pushflo's.
 */
export interface ClientOptions {
  /**
   * A publish key (`pub_…`) or a connection token from
   * `PushFloServer.createToken`. Required unless `getToken` is given (then
   * `''` is fine: the first connect asks `getToken`).
   */
  publishKey: string;
  /**
   * The server's base URL, `http(s)://host:port` (`ws(s)://` is derived).
   * Default `https://api.pushflo.dev`, the hosted service, like
   * `@pushflodev/sdk`; the browser bundle served at `/sdk/pushflo.js`
   * defaults to the server that served it.
   */
  baseUrl?: string;
  /** Connect as soon as the client is constructed. Default false. */
  autoConnect?: boolean;
  /** Log the connection life cycle to the console. Default false. */
  debug?: boolean;
  /**
   * How long one connection attempt may take; `connect()` rejects with a
   * `ConnectionError` (code `CONNECTION_TIMEOUT`) when the first one takes
   * longer. Default 30000.
   */
  connectionTimeout?: number;
  /** How often to ping over WebSocket; two intervals without a frame mean the connection is dead. Default 25000. */
  heartbeatInterval?: number;
  /** Reconnect after a drop or a failed attempt. Default true. */
  autoReconnect?: boolean;
  /** Consecutive failed attempts after which the client gives up (state `error`); 0, the default, never gives up. */
  maxReconnectAttempts?: number;
  /** First reconnect delay; doubles each attempt, with jitter. Default 1000. */
  reconnectDelay?: number;
  /** Cap on the reconnect delay. Default 30000. */
  maxReconnectDelay?: number;

  /**
   * pushflo: consecutive failed attempts after which the client gives up,
   * where 0 means "never retry" and Infinity "never give up". When set it
   * takes the place of `maxReconnectAttempts` (whose 0 means unlimited).
   */
  maxRetries?: number;
  /**
   * pushflo: make `connect()` wait through retries (backoff, SSE fallback)
   * and reject only when the client gives up (a rejected key, `maxRetries`
   * used up, `disconnect()`). Default false: like `@pushflodev/sdk`,
   * `connect()` rejects with the first failed attempt's error, and the
   * client keeps retrying in the background when `autoReconnect` is on.
   */
  connectWaitsForRetries?: boolean;
  /**
   * pushflo: fetches a fresh connection token, e.g. from your backend that
   * calls `PushFloServer.createToken`. The client calls it before the
   * first connect when `publishKey` is empty, before a token's `exp` runs
   * out (`tokenRefreshMargin` ahead; then it switches to a new connection
   * and resumes every channel without a gap), and when the server closes a
   * connection because the token expired (`TOKEN_EXPIRED`) or was refused.
   */
  getToken?: TokenSource;
  /** pushflo: how long before a token's `exp` to fetch and switch to a new one. Default 30000 (at most half the token's lifetime). */
  tokenRefreshMargin?: number;
  /**
   * pushflo: transports to use, in order of preference. Default
   * `['websocket', 'sse']`: WebSocket first, SSE after `sseFallbackAfter`
   * consecutive WebSocket failures, and back to WebSocket once a probe
   * succeeds.
   */
  transports?: TransportKind[];
  /** pushflo: consecutive WebSocket failures before falling back to SSE. Default 3. */
  sseFallbackAfter?: number;
  /** pushflo: while on SSE, how often to probe whether WebSocket works again. Default 60000; 0 never. */
  websocketRetryInterval?: number;
  /** pushflo: WebSocket constructor. Default `globalThis.WebSocket`; in Node 20 pass `ws`'s `WebSocket`. */
  WebSocket?: WebSocketConstructor;
  /**
   * pushflo: EventSource constructor for SSE. By default the SDK reads the
   * SSE stream with `fetch`, which sees every event type and needs nothing
   * in Node 18+. With this option it uses the given EventSource instead; an
   * EventSource can only listen to named events, so only `message` events
   * and the names in `sseEventTypes` arrive.
   */
  EventSource?: EventSourceConstructor;
  /** pushflo: event types to listen for when `EventSource` is given. */
  sseEventTypes?: string[];
  /** pushflo: fetch function for SSE. Default `globalThis.fetch`. */
  fetch?: FetchFunction;
}

/** SubscribedInfo is what `onSubscribed` receives (pushflo; `@pushflodev/sdk` passes nothing). */
export interface SubscribedInfo {
  channel: string;
  /** On a resume: whether the server still had every message after the last ID. */
  recovered?: boolean;
}

/** SubscriptionOptions are the callbacks of one subscription. */
export interface SubscriptionOptions<T = Record<string, unknown>> {
  /** Called once per message, in channel order, never twice for the same ID. */
  onMessage?: (message: Message<T>) => void;
  /** Called with errors about this channel (for example FORBIDDEN); always a PushFloError. */
  onError?: (error: Error) => void;
  /** Called each time the server confirms the subscription, including after every reconnect. */
  onSubscribed?(info?: SubscribedInfo): void;
  /** Called when the subscription ends. */
  onUnsubscribed?(info?: { channel: string }): void;
  /** pushflo: called when messages were lost to retention before a resume could fetch them. */
  onGap?: (gap: Gap) => void;
  /**
   * pushflo: resume after this message ID on the first subscribe (for
   * example one the app saved before a page reload). Later resubscribes
   * use the last ID seen.
   */
  lastMessageId?: string;
}

/** Subscription is the handle `subscribe` returns. */
export interface Subscription {
  /** The channel subscribed to. */
  channel: string;
  /** Stops this subscription's callbacks; the channel is left when its last subscription ends. */
  unsubscribe: () => void;
}

/** ReconnectInfo comes with the `reconnecting` event: which attempt is next and in how many ms. */
export interface ReconnectInfo {
  attempt: number;
  delay: number;
}

/**
 * ClientEvents are the events `PushFloClient.on` accepts, with their
 * listener arguments. `connected`, `disconnected`, `message` and `error`
 * are those of `@pushflodev/sdk`; the others are pushflo's.
 */
export interface ClientEvents {
  [event: string]: unknown[];
  connected: [info: ConnectionInfo];
  disconnected: [reason?: string];
  message: [message: Message];
  error: [error: PushFloError];
  stateChange: [state: ConnectionState];
  reconnecting: [info: ReconnectInfo];
  gap: [gap: Gap];
  transportChange: [transport: TransportKind];
}
