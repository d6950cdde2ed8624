import { AuthenticationError, PushFloError, errorFromFrame, errorFromResponse } from './errors.js';
import { SSEParser } from './sse-parser.js';
import type { SSEEvent } from './sse-parser.js';
import type { CloseInfo, Log, Transport, TransportHandlers } from './transport.js';
import type { EventSourceConstructor, EventSourceLike, FetchFunction, Message } from './types.js';

export interface SSETransportConfig {
  /** Base URL, http(s), without a trailing slash. */
  baseUrl: string;
  token: string;
  fetch?: FetchFunction;
  EventSource?: EventSourceConstructor;
  /** Extra event names to listen for in EventSource mode. */
  eventTypes: string[];
  connectionTimeout: number;
  /** A stream that sends nothing (not even a keep-alive comment) this long is dead. */
  idleTimeout: number;
  log: Log;
}

interface Stream {
  stop(): void;
}

/**
 * SSETransport holds one `GET /sse` stream per channel, so that each stream
 * resumes after its own channel's last message ID (`lastEventId`). It is
 * open once any stream is answered, or at once when it has no channels.
 * Any stream that fails ends the whole transport; the client then reconnects
 * every channel from its last ID, which costs little and keeps one backoff.
 *
 * By default streams are read with fetch, which sees every event type. With
 * an EventSource constructor only `message`, `gap` and the configured event
 * types can be heard, because EventSource has no catch-all listener.
 */
export class SSETransport implements Transport {
  readonly kind = 'sse' as const;
  private streams = new Map<string, Stream>();
  private opened = false;
  private finished = false;
  private openTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly cfg: SSETransportConfig, private readonly on: TransportHandlers) {
    if (!cfg.EventSource && !cfg.fetch) {
      setTimeout(() => this.finish('no fetch or EventSource available for SSE'), 0);
      return;
    }
    // With no channel there is nothing to ask the server; the first subscribe does.
    setTimeout(() => {
      if (!this.finished && this.streams.size === 0) this.markOpen();
    }, 0);
    this.openTimer = setTimeout(() => this.finish(`no SSE stream answered within ${cfg.connectionTimeout} ms`, undefined, true), cfg.connectionTimeout);
  }

  subscribe(channel: string, lastMessageId?: string): void {
    if (this.finished || this.streams.has(channel)) return;
    const url =
      `${this.cfg.baseUrl}/sse?channel=${encodeURIComponent(channel)}&token=${encodeURIComponent(this.cfg.token)}` +
      (lastMessageId !== undefined ? `&lastEventId=${encodeURIComponent(lastMessageId)}` : '');
    const stream = this.cfg.EventSource ? this.eventSourceStream(channel, url) : this.fetchStream(channel, url);
    this.streams.set(channel, stream);
  }

  unsubscribe(channel: string): void {
    const s = this.streams.get(channel);
    if (!s) return;
    this.streams.delete(channel);
    s.stop();
  }

  close(): void {
    this.finished = true;
    this.stopAll();
  }

  private markOpen(): void {
    if (this.opened || this.finished) return;
    this.opened = true;
    if (this.openTimer) clearTimeout(this.openTimer);
    this.openTimer = undefined;
    this.on.open({});
  }

  private event(channel: string, ev: SSEEvent): void {
    if (this.finished || !this.streams.has(channel)) return;
    let body: any;
    try {
      body = JSON.parse(ev.data);
    } catch {
      this.cfg.log('ignoring an SSE event whose data is not JSON');
      return;
    }
    // A gap record has after/before and no content; a message whose
    // eventType happens to be "gap" still has its id and content.
    if (ev.event === 'gap' && body && body.after !== undefined && body.content === undefined) {
      this.on.gap({ channel: String(body.channel ?? channel), after: String(body.after), before: String(body.before), reason: String(body.reason ?? '') });
      return;
    }
    // The server's last word before it ends a stream (for example a slow
    // consumer): report it; the stream's end then triggers a resume.
    if (ev.event === 'error' && body && typeof body.code === 'string' && body.content === undefined) {
      this.on.error(errorFromFrame(String(body.error ?? 'stream closed by the server'), body.code));
      return;
    }
    this.on.message(messageFromSSE(body, ev, channel));
  }

  private fetchStream(channel: string, url: string): Stream {
    const abort = typeof AbortController !== 'undefined' ? new AbortController() : undefined;
    let stopped = false;
    let idle: ReturnType<typeof setTimeout> | undefined;
    const touch = () => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => this.finish(`SSE stream for ${channel} silent for ${this.cfg.idleTimeout} ms`), this.cfg.idleTimeout);
    };
    const stop = () => {
      stopped = true;
      if (idle) clearTimeout(idle);
      abort?.abort();
    };
    const run = async () => {
      const res = await this.cfg.fetch!(url, {
        headers: { Accept: 'text/event-stream' },
        cache: 'no-store',
        signal: abort?.signal,
      });
      if (stopped) return;
      if (res.status !== 200) {
        let text = '';
        try {
          text = await res.text();
        } catch {
          // The status says enough.
        }
        const err = errorBody(text, res.status, channel);
        if (res.status === 401) {
          this.finish(`SSE stream for ${channel} refused: ${res.status}`, err);
        } else if (res.status === 403 || res.status === 404 || res.status === 400) {
          // About this channel only: report it, drop the stream, keep the rest.
          stop();
          this.streams.delete(channel);
          this.markOpen();
          this.on.error(err);
        } else {
          this.finish(`SSE stream for ${channel} answered ${res.status}`);
        }
        return;
      }
      if (!res.body || typeof res.body.getReader !== 'function') {
        this.finish('this fetch cannot stream response bodies; pass an EventSource option');
        return;
      }
      this.markOpen();
      this.on.subscribed(channel);
      touch();
      const parser = new SSEParser((ev) => this.event(channel, ev));
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (stopped) return;
        if (done) break;
        touch();
        parser.push(decoder.decode(value, { stream: true }));
      }
      this.finish(`SSE stream for ${channel} ended`);
    };
    touch();
    run().catch((err) => {
      if (!stopped) this.finish(`SSE stream for ${channel} failed: ${String(err && err.message ? err.message : err)}`);
    });
    return { stop };
  }

  private eventSourceStream(channel: string, url: string): Stream {
    const es: EventSourceLike = new this.cfg.EventSource!(url);
    const listener = (ev: any) => {
      const e: SSEEvent = { event: ev.type, data: String(ev.data) };
      if (ev.lastEventId) e.id = ev.lastEventId;
      this.event(channel, e);
    };
    for (const name of new Set(['message', 'gap', ...this.cfg.eventTypes])) es.addEventListener(name, listener);
    es.onopen = () => {
      this.markOpen();
      this.on.subscribed(channel);
    };
    es.onerror = () => {
      // EventSource would retry on its own with a stale lastEventId in the
      // URL; the client's reconnect resumes from the real last ID instead.
      this.finish(`SSE EventSource for ${channel} failed`);
    };
    return {
      stop: () => {
        es.onopen = null;
        es.onerror = null;
        es.close();
      },
    };
  }

  private finish(reason: string, fatal?: PushFloError, timedOut = false): void {
    if (this.finished) return;
    this.finished = true;
    this.stopAll();
    this.cfg.log('sse transport ended:', reason);
    const info: CloseInfo = { opened: this.opened, reason };
    if (fatal) info.fatal = fatal;
    if (timedOut) info.timedOut = true;
    this.on.close(info);
  }

  private stopAll(): void {
    if (this.openTimer) clearTimeout(this.openTimer);
    this.openTimer = undefined;
    for (const s of this.streams.values()) s.stop();
    this.streams.clear();
  }
}

function errorBody(text: string, status: number, channel: string): PushFloError {
  let message = `server answered ${status}`;
  let code: string | undefined;
  try {
    const b = JSON.parse(text);
    if (b && typeof b.error === 'string') message = b.error;
    if (b && typeof b.code === 'string') code = b.code;
  } catch {
    if (text) message = `${message}: ${text.slice(0, 200)}`;
  }
  if (status === 401 || status === 403) {
    return new AuthenticationError(message, code ?? (status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN'), { status, channel });
  }
  const err = errorFromResponse(status, message, code);
  return new PushFloError(err.message, err.code, { retryable: err.retryable, status, channel });
}

/** messageFromSSE maps an SSE event's Message JSON to the SDK's Message. */
export function messageFromSSE(b: any, ev: SSEEvent, channel: string): Message {
  const timestamp = typeof b.timestamp === 'number' ? b.timestamp : Date.now();
  return {
    id: String(b.id ?? ev.id),
    channel: typeof b.channel === 'string' ? b.channel : channel,
    eventType: typeof b.eventType === 'string' ? b.eventType : ev.event,
    clientId: typeof b.clientId === 'string' ? b.clientId : '',
    content: b.content ?? b.data ?? {},
    timestamp,
    createdAt: typeof b.createdAt === 'string' ? b.createdAt : new Date(timestamp).toISOString(),
  };
}
