/**
 * React bindings, with the exports of `@pushflodev/sdk/react`:
 * `<PushFloProvider>` owns one PushFloClient for its tree (and builds a new
 * one when its options change), `usePushFlo()` reads it and its connection
 * state, and `useChannel()` subscribes a component to a channel for as long
 * as it is mounted.
 */
import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { PushFloClient } from './client.js';
import type { PushFloError } from './errors.js';
import type { ClientOptions, ConnectionState, Message, Subscription, SubscriptionOptions } from './types.js';

export { PushFloClient } from './client.js';
export { AuthenticationError, ConnectionError, NetworkError, NotFoundError, PushFloError, ValidationError } from './errors.js';
export type { ClientOptions, ConnectionState, Message, Subscription, SubscriptionOptions } from './types.js';

/** PushFloContextValue is what the provider gives the hooks below it. */
export interface PushFloContextValue {
  connectionState: ConnectionState;
  /** The provider's client. Typed nullable as in `@pushflodev/sdk`; pushflo's provider always has one. */
  client: PushFloClient | null;
  connect: () => Promise<void>;
  disconnect: () => void;
  subscribe: (channel: string, options?: SubscriptionOptions) => Subscription | null;
  unsubscribe: (channel: string) => void;
}

const PushFloContext = createContext<PushFloContextValue | null>(null);

/**
 * PushFloProviderProps are the client options, or (pushflo) a ready
 * `client`. With options the provider builds a client, connects it on mount
 * unless `autoConnect` is false (default true here), disconnects it on
 * unmount, and builds a new one when an option changes (a new
 * `publishKey`, say). A client passed in is left to its owner.
 */
export interface PushFloProviderProps extends Omit<ClientOptions, 'autoConnect' | 'publishKey'> {
  /** A publish key or connection token; required unless `client` is given. */
  publishKey?: string;
  children?: ReactNode;
  /** Connect on mount. Default true. */
  autoConnect?: boolean;
  /** pushflo: use this client instead of building one. */
  client?: PushFloClient;
}

/** PushFloProvider makes one PushFloClient available to the hooks below it. */
export function PushFloProvider(props: PushFloProviderProps) {
  const { children, client: given, autoConnect = true, getToken, ...options } = props;
  // getToken may be a new function each render; the client calls the latest one.
  const tokenRef = useRef(getToken);
  tokenRef.current = getToken;
  const hasGetToken = getToken !== undefined;
  const key = optionsKey(options);
  const client = useMemo(() => {
    if (given) return given;
    const o: ClientOptions = { ...(options as ClientOptions), publishKey: options.publishKey ?? '', autoConnect: false };
    if (hasGetToken) o.getToken = () => tokenRef.current!();
    return new PushFloClient(o);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [given, key, hasGetToken, options.WebSocket, options.EventSource, options.fetch]);
  const [connectionState, setConnectionState] = useState<ConnectionState>(client.connectionState);
  useEffect(() => {
    setConnectionState(client.connectionState);
    const off = client.onConnectionChange(setConnectionState);
    if (!given && autoConnect) client.connect().catch(() => {});
    return () => {
      off();
      if (!given) client.disconnect();
    };
  }, [client, given, autoConnect]);
  const connect = useCallback(() => client.connect(), [client]);
  const disconnect = useCallback(() => client.disconnect(), [client]);
  const subscribe = useCallback((channel: string, o?: SubscriptionOptions) => client.subscribe(channel, o), [client]);
  const unsubscribe = useCallback((channel: string) => client.unsubscribe(channel), [client]);
  const value = useMemo<PushFloContextValue>(
    () => ({ connectionState, client, connect, disconnect, subscribe, unsubscribe }),
    [connectionState, client, connect, disconnect, subscribe, unsubscribe],
  );
  return createElement(PushFloContext.Provider, { value }, children);
}

/** optionsKey turns the plain (non-function) options into a string, so a changed option rebuilds the client. */
function optionsKey(o: Record<string, unknown>): string {
  const plain: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) if (typeof o[k] !== 'function') plain[k] = o[k];
  return JSON.stringify(plain);
}

/** usePushFloContext returns the provider's context value; it throws outside a PushFloProvider. */
export function usePushFloContext(): PushFloContextValue {
  const ctx = useContext(PushFloContext);
  if (!ctx) throw new Error('usePushFloContext must be used within a PushFloProvider');
  return ctx;
}

/** UsePushFloResult is what usePushFlo returns. */
export interface UsePushFloResult {
  connectionState: ConnectionState;
  isConnected: boolean;
  isConnecting: boolean;
  connect: () => Promise<void>;
  disconnect: () => void;
  subscribe: (channel: string, options?: SubscriptionOptions) => Subscription | null;
  unsubscribe: (channel: string) => void;
  /** pushflo: the provider's client. */
  client: PushFloClient;
}

/** usePushFlo returns the provider's connection state and methods; it throws outside a PushFloProvider. */
export function usePushFlo(): UsePushFloResult {
  const { connectionState, client, connect, disconnect, subscribe, unsubscribe } = usePushFloContext();
  return {
    connectionState,
    isConnected: connectionState === 'connected',
    isConnecting: connectionState === 'connecting',
    connect,
    disconnect,
    subscribe,
    unsubscribe,
    client: client!,
  };
}

/** UseChannelOptions tune useChannel. */
export interface UseChannelOptions<T = Record<string, unknown>> {
  /** Called for each message, in addition to it being kept in `messages`. */
  onMessage?: (message: Message<T>) => void;
  /** Called with errors about the channel; always a PushFloError. */
  onError?: (error: Error) => void;
  /** How many recent messages `messages` keeps. Default 100; 0 keeps none. */
  maxMessages?: number;
  /** pushflo: keep only messages of this event type. */
  eventType?: string;
  /** pushflo: subscribe only while true. Default true. */
  enabled?: boolean;
  /** pushflo: resume after this ID on first subscribe (for example one saved before a reload). */
  lastMessageId?: string;
}

/** UseChannelResult is what useChannel returns. */
export interface UseChannelResult<T = Record<string, unknown>> {
  /** Recent messages, oldest first. */
  messages: Message<T>[];
  /** The newest message, or null. */
  lastMessage: Message<T> | null;
  connectionState: ConnectionState;
  isSubscribed: boolean;
  clearMessages: () => void;
  /** pushflo: the last error about the channel, cleared when the subscription is confirmed again. */
  error: PushFloError | undefined;
}

/**
 * useChannel subscribes to `channel` while the component is mounted (and
 * `enabled`), and re-renders with each new message. Like every subscription
 * it resumes after the last message on reconnect and never sees one twice.
 */
export function useChannel<T = Record<string, unknown>>(channel: string, options: UseChannelOptions<T> = {}): UseChannelResult<T> {
  const { client: maybeClient, connectionState } = usePushFloContext();
  const client = maybeClient!;
  const [messages, setMessages] = useState<Message<T>[]>([]);
  const [isSubscribed, setSubscribed] = useState(false);
  const [error, setError] = useState<PushFloError | undefined>(undefined);
  const latest = useRef(options);
  latest.current = options;
  const enabled = options.enabled !== false && channel !== '';

  useEffect(() => {
    setSubscribed(false);
    if (!enabled) return;
    const sub = client.subscribe<T>(channel, {
      lastMessageId: latest.current.lastMessageId,
      onMessage: (m) => {
        const o = latest.current;
        if (o.eventType !== undefined && m.eventType !== o.eventType) return;
        const max = o.maxMessages ?? 100;
        if (max > 0) setMessages((prev) => (prev.length >= max ? [...prev.slice(prev.length - max + 1), m] : [...prev, m]));
        o.onMessage?.(m);
      },
      onSubscribed: () => {
        setSubscribed(true);
        setError(undefined);
      },
      onUnsubscribed: () => setSubscribed(false),
      onError: (e) => {
        setError(e as PushFloError);
        latest.current.onError?.(e);
      },
    });
    return () => {
      sub.unsubscribe();
      setSubscribed(false);
    };
  }, [client, channel, enabled]);

  // A dropped connection drops the server's subscriptions until resubscribed.
  useEffect(() => {
    if (connectionState !== 'connected') setSubscribed(false);
  }, [connectionState]);

  const clearMessages = useCallback(() => setMessages([]), []);
  return {
    messages,
    lastMessage: messages.length ? messages[messages.length - 1]! : null,
    connectionState,
    isSubscribed,
    clearMessages,
    error,
  };
}
