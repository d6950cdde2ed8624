import { AuthenticationError, PushFloError, errorFromFrame } from './errors.js';
import type { CloseInfo, Log, OpenInfo, Transport, TransportHandlers } from './transport.js';
import type { Message, WebSocketConstructor, WebSocketLike } from './types.js';

/** Close code the server uses for a rejected token. */
const closeUnauthorized = 4001;
const OPEN = 1;

export interface WebSocketTransportConfig {
  url: string;
  WebSocket: WebSocketConstructor;
  connectionTimeout: number;
  heartbeatInterval: number;
  log: Log;
}

/**
 * WebSocketTransport speaks the protocol's WebSocket frames over one socket.
 * It counts as open when the server's `connected` frame arrives, pings every
 * heartbeat interval, and declares the socket dead when two intervals pass
 * without any frame from the server.
 */
export class WebSocketTransport implements Transport {
  readonly kind = 'websocket' as const;
  private ws: WebSocketLike | undefined;
  private opened = false;
  private finished = false;
  private queue: string[] = [];
  private openTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private lastFrameAt = Date.now();
  private fatal: PushFloError | undefined;
  private timedOut = false;

  constructor(private readonly cfg: WebSocketTransportConfig, private readonly on: TransportHandlers) {
    let ws: WebSocketLike;
    try {
      ws = new cfg.WebSocket(cfg.url);
    } catch (err) {
      // Some constructors throw for bad URLs; report it like any failure, asynchronously.
      setTimeout(() => this.finish(`websocket constructor threw: ${String(err)}`), 0);
      return;
    }
    this.ws = ws;
    this.openTimer = setTimeout(() => {
      this.timedOut = true;
      this.finish(`no connected frame within ${cfg.connectionTimeout} ms`);
    }, cfg.connectionTimeout);
    ws.onmessage = (ev) => this.frame(ev.data);
    ws.onerror = () => {
      // The close event that follows carries the detail.
    };
    ws.onclose = (ev) => {
      if (ev.code === closeUnauthorized && !this.fatal) {
        // The error frame before the close names the cause; a bare close is a rejected token.
        const expired = /TOKEN_EXPIRED|expired/i.test(ev.reason || '');
        this.fatal = new AuthenticationError(ev.reason || 'token rejected', expired ? 'TOKEN_EXPIRED' : 'UNAUTHORIZED', { status: 401 });
      }
      this.finish(`websocket closed: code ${ev.code}${ev.reason ? ` (${ev.reason})` : ''}`);
    };
  }

  subscribe(channel: string, lastMessageId?: string): void {
    const frame: Record<string, string> = { type: 'subscribe', channel };
    if (lastMessageId !== undefined) frame.lastMessageId = lastMessageId;
    this.send(JSON.stringify(frame));
  }

  unsubscribe(channel: string): void {
    this.send(JSON.stringify({ type: 'unsubscribe', channel }));
  }

  close(): void {
    this.finished = true;
    this.stopTimers();
    this.closeSocket();
  }

  private send(text: string): void {
    if (this.finished) return;
    if (!this.opened || !this.ws || this.ws.readyState !== OPEN) {
      this.queue.push(text);
      return;
    }
    try {
      this.ws.send(text);
    } catch (err) {
      this.finish(`websocket send failed: ${String(err)}`);
    }
  }

  private frame(data: unknown): void {
    if (this.finished) return;
    this.lastFrameAt = Date.now();
    let f: any;
    try {
      f = JSON.parse(typeof data === 'string' ? data : String(data));
    } catch {
      this.cfg.log('ignoring a websocket frame that is not JSON');
      return;
    }
    if (!f || typeof f !== 'object') return;
    switch (f.type) {
      case 'connected':
        this.onConnected(typeof f.clientId === 'string' ? f.clientId : undefined, typeof f.timestamp === 'number' ? f.timestamp : undefined);
        break;
      case 'subscribed':
        this.on.subscribed(String(f.channel), typeof f.recovered === 'boolean' ? f.recovered : undefined);
        break;
      case 'message':
        this.on.message(messageFromFrame(f));
        break;
      case 'gap':
        this.on.gap({ channel: String(f.channel), after: String(f.after), before: String(f.before), reason: String(f.reason ?? '') });
        break;
      case 'error': {
        const channel = typeof f.channel === 'string' ? f.channel : undefined;
        const err = errorFromFrame(String(f.error ?? f.message ?? 'server error'), f.code, channel);
        if (!channel && (f.code === 'UNAUTHORIZED' || f.code === 'TOKEN_EXPIRED')) {
          this.fatal = err; // the close (4001) follows
        } else {
          this.on.error(err);
        }
        break;
      }
      case 'pong':
      case 'unsubscribed':
      default:
        break;
    }
  }

  private onConnected(clientId: string | undefined, timestamp: number | undefined): void {
    if (this.opened) return;
    this.opened = true;
    if (this.openTimer) clearTimeout(this.openTimer);
    this.openTimer = undefined;
    this.lastFrameAt = Date.now();
    this.heartbeat = setInterval(() => this.beat(), this.cfg.heartbeatInterval);
    const info: OpenInfo = {};
    if (clientId !== undefined) info.clientId = clientId;
    if (timestamp !== undefined) info.timestamp = timestamp;
    this.on.open(info);
    const queued = this.queue;
    this.queue = [];
    for (const text of queued) this.send(text);
  }

  private beat(): void {
    if (Date.now() - this.lastFrameAt > 2 * this.cfg.heartbeatInterval) {
      this.finish(`no frame from the server for ${2 * this.cfg.heartbeatInterval} ms`);
      return;
    }
    this.send('{"type":"ping"}');
  }

  private finish(reason: string): void {
    if (this.finished) return;
    this.finished = true;
    this.stopTimers();
    this.closeSocket();
    this.cfg.log('websocket transport ended:', reason);
    const info: CloseInfo = { opened: this.opened, reason };
    if (this.fatal) info.fatal = this.fatal;
    if (this.timedOut) info.timedOut = true;
    this.on.close(info);
  }

  private stopTimers(): void {
    if (this.openTimer) clearTimeout(this.openTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.openTimer = undefined;
    this.heartbeat = undefined;
  }

  private closeSocket(): void {
    const ws = this.ws;
    this.ws = undefined;
    if (!ws) return;
    ws.onmessage = null;
    ws.onclose = null;
    ws.onopen = null;
    // Keep an error handler: some implementations (ws) throw on an unhandled error event.
    ws.onerror = () => {};
    try {
      ws.close(1000, 'client closed');
    } catch {
      // Closing a socket that is still connecting may throw; it is going away either way.
    }
  }
}

/** messageFromFrame maps a WebSocket `message` frame to the SDK's Message. */
export function messageFromFrame(f: any): Message {
  const timestamp = typeof f.timestamp === 'number' ? f.timestamp : Date.now();
  return {
    id: String(f.messageId ?? f.id),
    channel: String(f.channel),
    eventType: typeof f.eventType === 'string' ? f.eventType : 'message',
    clientId: typeof f.clientId === 'string' ? f.clientId : '',
    content: f.data ?? f.content ?? {},
    timestamp,
    createdAt: typeof f.createdAt === 'string' ? f.createdAt : new Date(timestamp).toISOString(),
  };
}
