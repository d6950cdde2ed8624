/** SSEEvent is one dispatched server-sent event. */
export interface SSEEvent {
  /** The `event:` field, or "message" when the event had none. */
  event: string;
  data: string;
  /** The `id:` field of this event, if it had one. */
  id?: string;
}

/**
 * SSEParser turns chunks of a text/event-stream body into events, following
 * the WHATWG event-stream rules: lines end in CRLF, LF or CR; a blank line
 * dispatches; `:` starts a comment; one space after the colon is dropped;
 * multiple `data:` lines join with "\n"; an event with no data is not
 * dispatched. Chunks may split lines (and CRLF pairs) anywhere.
 */
export class SSEParser {
  private buffer = '';
  private pendingCR = false;
  private data: string[] = [];
  private eventType = '';
  private id: string | undefined;
  private sawField = false;

  /** onComment is called for each comment line (keep-alives), without the colon. */
  onComment?: (text: string) => void;

  constructor(private readonly onEvent: (ev: SSEEvent) => void) {}

  /** push feeds one decoded chunk of the stream. */
  push(chunk: string): void {
    let text = chunk;
    if (this.pendingCR) {
      this.pendingCR = false;
      if (text.startsWith('\n')) text = text.slice(1);
    }
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.buffer.slice(start, i);
      if (c === 13) {
        if (i + 1 < this.buffer.length) {
          if (this.buffer.charCodeAt(i + 1) === 10) i++;
        } else {
          this.pendingCR = true;
        }
      }
      start = i + 1;
      this.line(line);
    }
    this.buffer = this.buffer.slice(start);
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.startsWith(':')) {
      this.onComment?.(line.slice(1).replace(/^ /, ''));
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        this.sawField = true;
        break;
      case 'event':
        this.eventType = value;
        this.sawField = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        this.sawField = true;
        break;
      default:
        // `retry:` and unknown fields: the SDK runs its own backoff.
        break;
    }
  }

  private dispatch(): void {
    const had = this.sawField && this.data.length > 0;
    const ev: SSEEvent = { event: this.eventType || 'message', data: this.data.join('\n') };
    if (this.id !== undefined) ev.id = this.id;
    this.data = [];
    this.eventType = '';
    this.id = undefined;
    this.sawField = false;
    if (had) this.onEvent(ev);
  }
}
