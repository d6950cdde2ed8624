/**
 * React bindings: `<PushFloProvider>` owns one PushFloClient for its tree,
 * `usePushFlo()` reads it and its connection state, and `useChannel()`
 * subscribes a component to a channel for as long as it is mounted.
 */
import { createContext, createElement, useCallback, useContext, useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { PushFloClient } from './client.js';
import type { PushFloError } from './errors.js';
import type { ClientOptions, ConnectionState, Message } from './types.js';

export { PushFloClient } from './client.js';
export type { ClientOptions, ConnectionState, Message } from './types.js';

interface ContextValue {
  client: PushFloClient;
  connectionState: ConnectionState;
}

const PushFloContext = createContext<ContextValue | null>(null);

/**
 * PushFloProviderProps are the client options, or a ready `client`. With
 * options the provider creates the client on mount, connects it (unless
 * `autoConnect` is false) and disconnects it on unmount; a client passed in
 * is left to its owner.
 */
export type PushFloProviderProps = Partial<ClientOptions> & {
  client?: PushFloClient;
  children?: ReactNode;
};

/** PushFloProvider makes one PushFloClient available to the hooks below it. */
export function PushFloProvider(props: PushFloProviderProps) {
  const { children, client: given, ...options } = props;
  const [client] = useState<PushFloClient>(
    () => given ?? new PushFloClient({ ...(options as ClientOptions), autoConnect: false }),
  );
  const [connectionState, setConnectionState] = useState<ConnectionState>(client.connectionState);
  useEffect(() => {
    setConnectionState(client.connectionState);
    const off = client.onConnectionChange(setConnectionState);
    if (!given && options.autoConnect !== false) client.connect().catch(() => {});
    return () => {
      off();
      if (!given) client.disconnect();
    };
    // The client is made once; later option changes do not rebuild it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client]);
  return createElement(PushFloContext.Provider, { value: { client, connectionState } }, children);
}

/** UsePushFloResult is what usePushFlo returns. */
export interface UsePushFloResult {
  client: PushFloClient;
  connectionState: ConnectionState;
  isConnected: boolean;
  connect: () => Promise<void>;
  disconnect: () => void;
}

/** usePushFlo returns the provider's client and its connection state; it throws outside a PushFloProvider. */
export function usePushFlo(): UsePushFloResult {
  const ctx = useContext(PushFloContext);
  if (!ctx) throw new Error('usePushFlo and useChannel must be used inside a <PushFloProvider>');
  const { client, connectionState } = ctx;
  return {
    client,
    connectionState,
    isConnected: connectionState === 'connected',
    connect: useCallback(() => client.connect(), [client]),
    disconnect: useCallback(() => client.disconnect(), [client]),
  };
}

/** UseChannelOptions tune useChannel. */
export interface UseChannelOptions<T = Record<string, unknown>> {
  /** Called for each message, in addition to it being kept in `messages`. */
  onMessage?: (message: Message<T>) => void;
  onError?: (error: PushFloError) => void;
  /** Keep only messages of this event type. */
  eventType?: string;
  /** How many recent messages `messages` keeps. Default 100; 0 keeps none. */
  maxMessages?: number;
  /** Subscribe only while true. Default true. */
  enabled?: boolean;
  /** Resume after this ID on first subscribe (for example one saved before a reload). */
  lastMessageId?: string;
}

/** UseChannelResult is what useChannel returns. */
export interface UseChannelResult<T = Record<string, unknown>> {
  /** Recent messages, oldest first. */
  messages: Message<T>[];
  lastMessage: Message<T> | undefined;
  isSubscribed: boolean;
  error: PushFloError | undefined;
  connectionState: ConnectionState;
  clearMessages: () => void;
}

/**
 * useChannel subscribes to `channel` while the component is mounted (and
 * `enabled`), and re-renders with each new message. Like every subscription
 * it resumes after the last message on reconnect and never sees one twice.
 */
export function useChannel<T = Record<string, unknown>>(channel: string, options: UseChannelOptions<T> = {}): UseChannelResult<T> {
  const { client, connectionState } = usePushFlo();
  const [messages, setMessages] = useState<Message<T>[]>([]);
  const [isSubscribed, setSubscribed] = useState(false);
  const [error, setError] = useState<PushFloError | undefined>(undefined);
  const latest = useRef(options);
  latest.current = options;
  const enabled = options.enabled !== false;

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
      onError: (e) => {
        setError(e);
        latest.current.onError?.(e);
      },
    });
    return () => sub.unsubscribe();
  }, [client, channel, enabled]);

  // A dropped connection drops the server's subscriptions until resubscribed.
  useEffect(() => {
    if (connectionState !== 'connected') setSubscribed(false);
  }, [connectionState]);

  const clearMessages = useCallback(() => setMessages([]), []);
  return {
    messages,
    lastMessage: messages.length ? messages[messages.length - 1] : undefined,
    isSubscribed,
    error,
    connectionState,
    clearMessages,
  };
}
