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
  open(info: { clientId?: string }): void;
  message(message: Message): void;
  subscribed(channel: string, recovered?: boolean): void;
  gap(gap: Gap): void;
  /** An error that does not end the connection; `error.channel` is set when it is about one channel. */
  error(error: PushFloError): void;
  /**
   * The connection ended. `opened` says whether `open` had been called;
   * `fatal` is set when retrying cannot help (a rejected key).
   */
  close(info: { opened: boolean; reason: string; fatal?: PushFloError }): void;
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
