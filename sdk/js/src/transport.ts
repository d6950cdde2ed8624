import type { PushFloError } from './errors.js';
import type { Gap, Message, TransportKind } from './types.js';

/**
 * TransportHandlers receive what one transport (one WebSocket, or one set
 * of SSE streams) sees. A transport calls `close` exactly once, unless the
 * client closed it first with `Transport.close`, after which it calls
 * nothing.
 */
export interface TransportHandlers {
  /** The server accepted the connection. */
  open(info: OpenInfo): void;
  message(message: Message): void;
  subscribed(channel: string, recovered?: boolean): void;
  gap(gap: Gap): void;
  /** An error that does not end the connection; `error.channel` is set when it is about one channel. */
  error(error: PushFloError): void;
  /**
   * The connection ended. `opened` says whether `open` had been called;
   * `fatal` is set when retrying cannot help (a rejected key).
   */
  close(info: CloseInfo): void;
}

/** OpenInfo is what the server said when it accepted the connection (WebSocket's `connected` frame). */
export interface OpenInfo {
  clientId?: string;
  timestamp?: number;
}

/** CloseInfo says how a transport ended. */
export interface CloseInfo {
  /** Whether `open` had been called. */
  opened: boolean;
  reason: string;
  /** Set when retrying with the same credentials cannot help (a rejected or expired token). */
  fatal?: PushFloError;
  /** Set when the attempt ended because it did not open within the connection timeout. */
  timedOut?: boolean;
}

/**
 * Transport is one connection attempt and, if it succeeds, the connection.
 * `subscribe` may be called at once; a transport holds subscriptions until it
 * can send them. Transports never reconnect: the client does.
 */
export interface Transport {
  readonly kind: TransportKind;
  subscribe(channel: string, lastMessageId?: string): void;
  unsubscribe(channel: string): void;
  close(): void;
}

/** Log is the client's debug logger. */
export type Log = (...args: unknown[]) => void;
