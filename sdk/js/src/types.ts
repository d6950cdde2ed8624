import type { PushFloError } from './errors.js';

/**
 * Message is one message as delivered to `onMessage`, returned by history
 * and sent on SSE. `id` is opaque; within a channel IDs sort byte-wise in
 * publish order.
 */
export interface Message<T = Record<string, unknown>> {
  id: string;
  channel: string;
  eventType: string;
  clientId: string;
  content: T;
  /** Publish time, Unix milliseconds. */
  timestamp: number;
  /** Publish time as an ISO 8601 string. */
  createdAt: string;
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
 * ConnectionState is where the client's connection stands.
 * `reconnecting` means it lost (or never got) a connection and is waiting
 * out a backoff or trying again; `error` means it gave up (bad key, or
 * `maxReconnectAttempts` used up) until `connect()` is called again.
 */
export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'error';

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

/** ClientOptions configure a PushFloClient. Every duration is in milliseconds. */
export interface ClientOptions {
  /** A publish key (`pub_…`) or a connection token from `POST /api/v1/auth/token`. Required. */
  publishKey: string;
  /**
   * The server's base URL, e.g. `https://push.example.com`. Defaults to the
   * page's origin in a browser; required elsewhere. `ws(s)://` is derived
   * from it for WebSocket.
   */
  baseUrl?: string;
  /** Connect as soon as the client is constructed. Default true; `connect()` is harmless either way. */
  autoConnect?: boolean;
  /** How long one connection attempt may take before it counts as failed. Default 10000. */
  connectionTimeout?: number;
  /** How often to ping over WebSocket; two intervals without a frame mean the connection is dead. Default 25000. */
  heartbeatInterval?: number;
  /** Reconnect after an unexpected drop. Default true. */
  autoReconnect?: boolean;
  /** Consecutive failed attempts after which the client gives up (state `error`). Default Infinity. */
  maxReconnectAttempts?: number;
  /** First reconnect delay; doubles each attempt, with jitter. Default 1000. */
  reconnectDelay?: number;
  /** Cap on the reconnect delay. Default 30000. */
  maxReconnectDelay?: number;
  /** Log connection life cycle to the console. Default false. */
  debug?: boolean;
  /**
   * Transports to use, in order of preference. Default `['websocket', 'sse']`:
   * WebSocket first, SSE after `sseFallbackAfter` consecutive WebSocket
   * failures, and back to WebSocket once a probe succeeds.
   */
  transports?: TransportKind[];
  /** Consecutive WebSocket failures before falling back to SSE. Default 3. */
  sseFallbackAfter?: number;
  /** While on SSE, how often to probe whether WebSocket works again. Default 60000; 0 never. */
  websocketRetryInterval?: number;
  /** WebSocket constructor. Default `globalThis.WebSocket`; in Node 20 pass `ws`'s `WebSocket`. */
  WebSocket?: WebSocketConstructor;
  /**
   * EventSource constructor for SSE. By default the SDK reads the SSE stream
   * with `fetch`, which sees every event type and needs nothing in Node 18+.
   * With this option it uses the given EventSource instead; an EventSource
   * can only listen to named events, so only `message` events and the names
   * in `sseEventTypes` arrive.
   */
  EventSource?: EventSourceConstructor;
  /** Event types to listen for when `EventSource` is given. */
  sseEventTypes?: string[];
  /** fetch function for SSE. Default `globalThis.fetch`. */
  fetch?: FetchFunction;
}

/** SubscriptionOptions are the callbacks of one subscription. */
export interface SubscriptionOptions<T = Record<string, unknown>> {
  /** Called once per message, in channel order, never twice for the same ID. */
  onMessage?: (message: Message<T>) => void;
  /** Called with errors about this channel (for example FORBIDDEN). */
  onError?: (error: PushFloError) => void;
  /** Called each time the server confirms the subscription, including after every reconnect. */
  onSubscribed?: (info: { channel: string; recovered?: boolean }) => void;
  /** Called when the subscription ends. */
  onUnsubscribed?: (info: { channel: string }) => void;
  /** Called when messages were lost to retention before a resume could fetch them. */
  onGap?: (gap: Gap) => void;
  /**
   * Resume after this message ID on the first subscribe (for example one the
   * app saved before a page reload). Later resubscribes use the last ID seen.
   */
  lastMessageId?: string;
}

/** Subscription is the handle `subscribe` returns. */
export interface Subscription {
  readonly channel: string;
  /** Stops this subscription's callbacks; the channel is left when its last subscription ends. */
  unsubscribe(): void;
}

/** ClientEvents are the events `PushFloClient.on` accepts. */
export interface ClientEvents {
  connected: (info: { clientId?: string; transport: TransportKind }) => void;
  disconnected: (info: { reason: string }) => void;
  stateChange: (state: ConnectionState) => void;
  message: (message: Message) => void;
  error: (error: PushFloError) => void;
  gap: (gap: Gap) => void;
  transportChange: (transport: TransportKind) => void;
}
