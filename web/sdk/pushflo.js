// @pushflo/sdk 0.2.0 — browser ES module built from sdk/js by `make sdk-bundle`; do not edit.
// MIT licence. Source: sdk/js/src in the pushflo repository.

// src/defaults.ts
var defaults = {
  /** The base URL used when ClientOptions.baseUrl is not given. */
  baseUrl: "https://api.pushflo.dev",
  /** The Console API URL @pushflodev/sdk sends channel management to. */
  consoleUrl: "https://console.pushflo.dev"
};

// src/backoff.ts
function backoffDelay(attempt, baseMs, maxMs, random = Math.random) {
  const exp = Math.max(0, attempt - 1);
  const d = Math.min(maxMs, baseMs * Math.pow(2, Math.min(exp, 30)));
  const half = d / 2;
  return Math.round(half + random() * half);
}

// src/emitter.ts
var TypedEventEmitter = class {
  constructor() {
    this.listeners = /* @__PURE__ */ new Map();
  }
  /** on adds a listener. */
  on(event, handler) {
    let set = this.listeners.get(event);
    if (!set) {
      set = /* @__PURE__ */ new Set();
      this.listeners.set(event, set);
    }
    set.add(handler);
    return this;
  }
  /** once adds a listener that is removed before its first call. */
  once(event, handler) {
    const wrapper = (...args) => {
      this.off(event, wrapper);
      handler(...args);
    };
    return this.on(event, wrapper);
  }
  /** off removes a listener. */
  off(event, handler) {
    const set = this.listeners.get(event);
    if (set) {
      set.delete(handler);
      if (set.size === 0) this.listeners.delete(event);
    }
    return this;
  }
  /** removeAllListeners removes the listeners of one event, or of every event when none is named. */
  removeAllListeners(event) {
    if (event === void 0) this.listeners.clear();
    else this.listeners.delete(event);
    return this;
  }
  /** listenerCount is how many listeners an event has. */
  listenerCount(event) {
    return this.listeners.get(event)?.size ?? 0;
  }
  /** eventNames lists the events that have listeners. */
  eventNames() {
    return [...this.listeners.keys()];
  }
  /** emit calls the event's listeners in the order they were added and reports whether there were any. */
  emit(event, ...args) {
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return false;
    for (const l of [...set]) safeCall(l, ...args);
    return true;
  }
};
function safeCall(fn, ...args) {
  if (!fn) return;
  try {
    fn(...args);
  } catch (err) {
    console.error("pushflo: a callback threw:", err);
  }
}

// src/errors.ts
var ERROR_CODES = {
  CONNECTION_FAILED: "CONNECTION_FAILED",
  CONNECTION_TIMEOUT: "CONNECTION_TIMEOUT",
  CONNECTION_CLOSED: "CONNECTION_CLOSED",
  INVALID_API_KEY: "INVALID_API_KEY",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  TOKEN_EXPIRED: "TOKEN_EXPIRED",
  NETWORK_ERROR: "NETWORK_ERROR",
  REQUEST_TIMEOUT: "REQUEST_TIMEOUT",
  NOT_FOUND: "NOT_FOUND",
  VALIDATION_ERROR: "VALIDATION_ERROR",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  CONFLICT: "CONFLICT",
  RATE_LIMITED: "RATE_LIMITED",
  UNAVAILABLE: "UNAVAILABLE",
  OUTCOME_UNKNOWN: "OUTCOME_UNKNOWN",
  SERVER_ERROR: "SERVER_ERROR"
};
var PushFloError = class extends Error {
  constructor(message, code, options = {}) {
    super(message);
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = "PushFloError";
    this.code = code;
    this.retryable = options.retryable ?? false;
    if (options.cause !== void 0) this.cause = options.cause;
    this.status = options.status ?? 0;
    if (options.channel !== void 0) this.channel = options.channel;
    const capture = Error.captureStackTrace;
    if (typeof capture === "function") capture(this, new.target);
  }
  /** toJSON returns a plain object for logging: name, message, code, retryable, stack and the cause's message. */
  toJSON() {
    return {
      name: this.name,
      message: this.message,
      code: this.code,
      retryable: this.retryable,
      stack: this.stack,
      cause: this.cause?.message
    };
  }
  /** toString reads `Name [CODE]: message`. */
  toString() {
    return `${this.name} [${this.code}]: ${this.message}`;
  }
};
var ConnectionError = class _ConnectionError extends PushFloError {
  constructor(message, code = ERROR_CODES.CONNECTION_FAILED, options = {}) {
    super(message, code, { retryable: true, ...options });
    this.name = "ConnectionError";
  }
  /** timeout is the error for an attempt that did not open within `timeoutMs`. */
  static timeout(timeoutMs) {
    return new _ConnectionError(`Connection timed out after ${timeoutMs}ms`, ERROR_CODES.CONNECTION_TIMEOUT, { retryable: true });
  }
  /** closed is the error for a connection that ended unexpectedly. */
  static closed(reason) {
    return new _ConnectionError(reason ? `Connection closed: ${reason}` : "Connection closed unexpectedly", ERROR_CODES.CONNECTION_CLOSED, {
      retryable: true
    });
  }
  /** failed is the error for an attempt that failed. */
  static failed(reason, cause) {
    const options = { retryable: true };
    if (cause !== void 0) options.cause = cause;
    return new _ConnectionError(reason ? `Connection failed: ${reason}` : "Failed to connect", ERROR_CODES.CONNECTION_FAILED, options);
  }
};
var AuthenticationError = class _AuthenticationError extends PushFloError {
  constructor(message, code = ERROR_CODES.UNAUTHORIZED, options = {}) {
    super(message, code, { retryable: false, ...options });
    this.name = "AuthenticationError";
  }
  /** invalidKey is the error for a key of the wrong kind, e.g. `invalidKey('secret')`. */
  static invalidKey(keyType) {
    return new _AuthenticationError(keyType ? `Invalid ${keyType} API key` : "Invalid API key", ERROR_CODES.INVALID_API_KEY);
  }
  /** unauthorized is the 401 error. */
  static unauthorized(reason) {
    return new _AuthenticationError(reason ?? "Unauthorized - check your API key", ERROR_CODES.UNAUTHORIZED, { status: 401 });
  }
  /** forbidden is the 403 error. */
  static forbidden(action) {
    return new _AuthenticationError(
      action ? `Access forbidden: insufficient permissions for ${action}` : "Access forbidden: insufficient permissions",
      ERROR_CODES.FORBIDDEN,
      { status: 403 }
    );
  }
};
var NetworkError = class _NetworkError extends PushFloError {
  constructor(message, code = ERROR_CODES.NETWORK_ERROR, options = {}) {
    const { statusCode, ...rest } = options;
    super(message, code, { retryable: true, ...statusCode !== void 0 ? { status: statusCode } : {}, ...rest });
    this.name = "NetworkError";
    if (statusCode !== void 0) this.statusCode = statusCode;
  }
  /** fromFetch wraps a fetch that threw (no answer). */
  static fromFetch(cause) {
    return new _NetworkError(`Network request failed: ${cause.message}`, ERROR_CODES.NETWORK_ERROR, { retryable: true, cause });
  }
  /** timeout is the error for a request with no answer within `timeoutMs`. */
  static timeout(timeoutMs) {
    return new _NetworkError(`Request timed out after ${timeoutMs}ms`, ERROR_CODES.REQUEST_TIMEOUT, { retryable: true });
  }
  /**
   * fromStatus builds the error for an HTTP error status: 404 `NOT_FOUND`,
   * 400/422 `VALIDATION_ERROR`, 429 `RATE_LIMITED`, others `SERVER_ERROR`;
   * retryable for 5xx and 429.
   */
  static fromStatus(statusCode, message) {
    let code = ERROR_CODES.SERVER_ERROR;
    if (statusCode === 404) code = ERROR_CODES.NOT_FOUND;
    else if (statusCode === 400 || statusCode === 422) code = ERROR_CODES.VALIDATION_ERROR;
    else if (statusCode === 429) code = ERROR_CODES.RATE_LIMITED;
    return new _NetworkError(message ?? statusMessage(statusCode), code, {
      retryable: statusCode >= 500 || statusCode === 429,
      statusCode
    });
  }
  toJSON() {
    return { ...super.toJSON(), statusCode: this.statusCode };
  }
};
var NotFoundError = class extends NetworkError {
  constructor(message, options = {}) {
    super(message, ERROR_CODES.NOT_FOUND, { ...options, retryable: false, statusCode: 404 });
    this.name = "NotFoundError";
  }
};
var ValidationError = class _ValidationError extends PushFloError {
  constructor(message, field) {
    super(message, ERROR_CODES.VALIDATION_ERROR, { retryable: false });
    this.name = "ValidationError";
    if (field !== void 0) this.field = field;
  }
  /**
   * invalidChannelSlug is the error `@pushflodev/sdk` throws for a name
   * outside its slug rule. pushflo's SDK accepts every protocol-valid
   * channel name and uses `channelProblem` instead; this helper is kept
   * for code that builds the same error.
   */
  static invalidChannelSlug(slug) {
    return new _ValidationError(
      `Invalid channel slug '${slug}': must be 1-128 characters, lowercase alphanumeric with hyphens, cannot start or end with a hyphen`,
      "slug"
    );
  }
  /** required is the error for a missing field. */
  static required(field) {
    return new _ValidationError(`${field} is required`, field);
  }
  toJSON() {
    return { ...super.toJSON(), field: this.field };
  }
};
function statusMessage(statusCode) {
  const messages = {
    400: "Bad request",
    404: "Resource not found",
    413: "Payload too large",
    422: "Validation error",
    429: "Rate limit exceeded",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout"
  };
  return messages[statusCode] ?? `HTTP error ${statusCode}`;
}
function errorFromResponse(status, message, code) {
  if (status === 401) {
    const e = AuthenticationError.unauthorized(message);
    return code && code !== ERROR_CODES.UNAUTHORIZED ? new AuthenticationError(e.message, code, { status }) : e;
  }
  if (status === 403) return new AuthenticationError(message ?? "Access forbidden: insufficient permissions", ERROR_CODES.FORBIDDEN, { status });
  if (status === 404) return new NotFoundError(message ?? "Resource not found");
  const base = NetworkError.fromStatus(status, message);
  const wire = code || base.code;
  const retryable = wire === ERROR_CODES.OUTCOME_UNKNOWN ? false : base.retryable;
  return new NetworkError(base.message, wire, { retryable, statusCode: status });
}
function errorFromFrame(message, code, channel) {
  const c = code || ERROR_CODES.SERVER_ERROR;
  const options = {};
  if (channel !== void 0) options.channel = channel;
  switch (c) {
    case ERROR_CODES.UNAUTHORIZED:
    case ERROR_CODES.FORBIDDEN:
    case ERROR_CODES.TOKEN_EXPIRED:
    case "INVALID_TOKEN":
      return new AuthenticationError(message, c, options);
    case ERROR_CODES.RATE_LIMITED:
    case ERROR_CODES.UNAVAILABLE:
    case ERROR_CODES.SERVER_ERROR:
      return new PushFloError(message, c, { ...options, retryable: true });
    default:
      return new PushFloError(message, c, options);
  }
}

// src/ids.ts
function compareIds(a, b) {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 55296 && x <= 57343;
    const ys = y >= 55296 && y <= 57343;
    if (xs === ys) return x - y;
    return xs ? 1 : -1;
  }
  return a.length - b.length;
}
function isAfter(id, last) {
  return last === void 0 || compareIds(id, last) > 0;
}
var channelPattern = /^[a-zA-Z0-9\-_:.@=,]{1,128}$/;
function channelProblem(channel) {
  if (typeof channel !== "string") return `channel must be a string, got ${typeof channel}`;
  if (channelPattern.test(channel)) return void 0;
  if (channel.length === 0) return "channel name is empty; 1 to 128 characters are allowed";
  if (channel.length > 128) return `channel name is ${channel.length} characters; at most 128 are allowed`;
  const bad = [...channel].find((ch) => !/[a-zA-Z0-9\-_:.@=,]/.test(ch));
  return `channel name ${JSON.stringify(channel)} contains ${JSON.stringify(bad)}; only a-z A-Z 0-9 - _ : . @ = , are allowed`;
}

// src/token.ts
function tokenExpiry(token) {
  const parts = token.split(".");
  if (parts.length !== 3) return void 0;
  try {
    const b64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(decodeBase64(b64 + "=".repeat((4 - b64.length % 4) % 4)));
    return typeof claims?.exp === "number" ? claims.exp * 1e3 : void 0;
  } catch {
    return void 0;
  }
}
function decodeBase64(b64) {
  const atobFn = globalThis.atob;
  if (atobFn) {
    const bin = atobFn(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new TextDecoder().decode(bytes);
  }
  return globalThis.Buffer.from(b64, "base64").toString("utf8");
}

// src/sse-parser.ts
var SSEParser = class {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = "";
    this.pendingCR = false;
    this.data = [];
    this.eventType = "";
    this.sawField = false;
  }
  /** push feeds one decoded chunk of the stream. */
  push(chunk) {
    let text = chunk;
    if (this.pendingCR) {
      this.pendingCR = false;
      if (text.startsWith("\n")) text = text.slice(1);
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
  line(line) {
    if (line === "") {
      this.dispatch();
      return;
    }
    if (line.startsWith(":")) {
      this.onComment?.(line.slice(1).replace(/^ /, ""));
      return;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.data.push(value);
        this.sawField = true;
        break;
      case "event":
        this.eventType = value;
        this.sawField = true;
        break;
      case "id":
        if (!value.includes("\0")) this.id = value;
        this.sawField = true;
        break;
      default:
        break;
    }
  }
  dispatch() {
    const had = this.sawField && this.data.length > 0;
    const ev = { event: this.eventType || "message", data: this.data.join("\n") };
    if (this.id !== void 0) ev.id = this.id;
    this.data = [];
    this.eventType = "";
    this.id = void 0;
    this.sawField = false;
    if (had) this.onEvent(ev);
  }
};

// src/transport-sse.ts
var SSETransport = class {
  constructor(cfg, on) {
    this.cfg = cfg;
    this.on = on;
    this.kind = "sse";
    this.streams = /* @__PURE__ */ new Map();
    this.opened = false;
    this.finished = false;
    if (!cfg.EventSource && !cfg.fetch) {
      setTimeout(() => this.finish("no fetch or EventSource available for SSE"), 0);
      return;
    }
    setTimeout(() => {
      if (!this.finished && this.streams.size === 0) this.markOpen();
    }, 0);
    this.openTimer = setTimeout(() => this.finish(`no SSE stream answered within ${cfg.connectionTimeout} ms`, void 0, true), cfg.connectionTimeout);
  }
  subscribe(channel, lastMessageId) {
    if (this.finished || this.streams.has(channel)) return;
    const url = `${this.cfg.baseUrl}/sse?channel=${encodeURIComponent(channel)}&token=${encodeURIComponent(this.cfg.token)}` + (lastMessageId !== void 0 ? `&lastEventId=${encodeURIComponent(lastMessageId)}` : "");
    const stream = this.cfg.EventSource ? this.eventSourceStream(channel, url) : this.fetchStream(channel, url);
    this.streams.set(channel, stream);
  }
  unsubscribe(channel) {
    const s = this.streams.get(channel);
    if (!s) return;
    this.streams.delete(channel);
    s.stop();
  }
  close() {
    this.finished = true;
    this.stopAll();
  }
  markOpen() {
    if (this.opened || this.finished) return;
    this.opened = true;
    if (this.openTimer) clearTimeout(this.openTimer);
    this.openTimer = void 0;
    this.on.open({});
  }
  event(channel, ev) {
    if (this.finished || !this.streams.has(channel)) return;
    let body;
    try {
      body = JSON.parse(ev.data);
    } catch {
      this.cfg.log("ignoring an SSE event whose data is not JSON");
      return;
    }
    if (ev.event === "gap" && body && body.after !== void 0 && body.content === void 0) {
      this.on.gap({ channel: String(body.channel ?? channel), after: String(body.after), before: String(body.before), reason: String(body.reason ?? "") });
      return;
    }
    if (ev.event === "error" && body && typeof body.code === "string" && body.content === void 0) {
      this.on.error(errorFromFrame(String(body.error ?? "stream closed by the server"), body.code));
      return;
    }
    this.on.message(messageFromSSE(body, ev, channel));
  }
  fetchStream(channel, url) {
    const abort = typeof AbortController !== "undefined" ? new AbortController() : void 0;
    let stopped = false;
    let idle;
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
      const res = await this.cfg.fetch(url, {
        headers: { Accept: "text/event-stream" },
        cache: "no-store",
        signal: abort?.signal
      });
      if (stopped) return;
      if (res.status !== 200) {
        let text = "";
        try {
          text = await res.text();
        } catch {
        }
        const err = errorBody(text, res.status, channel);
        if (res.status === 401) {
          this.finish(`SSE stream for ${channel} refused: ${res.status}`, err);
        } else if (res.status === 403 || res.status === 404 || res.status === 400) {
          stop();
          this.streams.delete(channel);
          this.markOpen();
          this.on.error(err);
        } else {
          this.finish(`SSE stream for ${channel} answered ${res.status}`);
        }
        return;
      }
      if (!res.body || typeof res.body.getReader !== "function") {
        this.finish("this fetch cannot stream response bodies; pass an EventSource option");
        return;
      }
      this.markOpen();
      this.on.subscribed(channel);
      touch();
      const parser = new SSEParser((ev) => this.event(channel, ev));
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      for (; ; ) {
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
  eventSourceStream(channel, url) {
    const es = new this.cfg.EventSource(url);
    const listener = (ev) => {
      const e = { event: ev.type, data: String(ev.data) };
      if (ev.lastEventId) e.id = ev.lastEventId;
      this.event(channel, e);
    };
    for (const name of /* @__PURE__ */ new Set(["message", "gap", ...this.cfg.eventTypes])) es.addEventListener(name, listener);
    es.onopen = () => {
      this.markOpen();
      this.on.subscribed(channel);
    };
    es.onerror = () => {
      this.finish(`SSE EventSource for ${channel} failed`);
    };
    return {
      stop: () => {
        es.onopen = null;
        es.onerror = null;
        es.close();
      }
    };
  }
  finish(reason, fatal, timedOut = false) {
    if (this.finished) return;
    this.finished = true;
    this.stopAll();
    this.cfg.log("sse transport ended:", reason);
    const info = { opened: this.opened, reason };
    if (fatal) info.fatal = fatal;
    if (timedOut) info.timedOut = true;
    this.on.close(info);
  }
  stopAll() {
    if (this.openTimer) clearTimeout(this.openTimer);
    this.openTimer = void 0;
    for (const s of this.streams.values()) s.stop();
    this.streams.clear();
  }
};
function errorBody(text, status, channel) {
  let message = `server answered ${status}`;
  let code;
  try {
    const b = JSON.parse(text);
    if (b && typeof b.error === "string") message = b.error;
    if (b && typeof b.code === "string") code = b.code;
  } catch {
    if (text) message = `${message}: ${text.slice(0, 200)}`;
  }
  if (status === 401 || status === 403) {
    return new AuthenticationError(message, code ?? (status === 401 ? "UNAUTHORIZED" : "FORBIDDEN"), { status, channel });
  }
  const err = errorFromResponse(status, message, code);
  return new PushFloError(err.message, err.code, { retryable: err.retryable, status, channel });
}
function messageFromSSE(b, ev, channel) {
  const timestamp = typeof b.timestamp === "number" ? b.timestamp : Date.now();
  return {
    id: String(b.id ?? ev.id),
    channel: typeof b.channel === "string" ? b.channel : channel,
    eventType: typeof b.eventType === "string" ? b.eventType : ev.event,
    clientId: typeof b.clientId === "string" ? b.clientId : "",
    content: b.content ?? b.data ?? {},
    timestamp,
    createdAt: typeof b.createdAt === "string" ? b.createdAt : new Date(timestamp).toISOString()
  };
}

// src/transport-ws.ts
var closeUnauthorized = 4001;
var OPEN = 1;
var WebSocketTransport = class {
  constructor(cfg, on) {
    this.cfg = cfg;
    this.on = on;
    this.kind = "websocket";
    this.opened = false;
    this.finished = false;
    this.queue = [];
    this.lastFrameAt = Date.now();
    this.timedOut = false;
    let ws;
    try {
      ws = new cfg.WebSocket(cfg.url);
    } catch (err) {
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
    };
    ws.onclose = (ev) => {
      if (ev.code === closeUnauthorized && !this.fatal) {
        const expired = /TOKEN_EXPIRED|expired/i.test(ev.reason || "");
        this.fatal = new AuthenticationError(ev.reason || "token rejected", expired ? "TOKEN_EXPIRED" : "UNAUTHORIZED", { status: 401 });
      }
      this.finish(`websocket closed: code ${ev.code}${ev.reason ? ` (${ev.reason})` : ""}`);
    };
  }
  subscribe(channel, lastMessageId) {
    const frame = { type: "subscribe", channel };
    if (lastMessageId !== void 0) frame.lastMessageId = lastMessageId;
    this.send(JSON.stringify(frame));
  }
  unsubscribe(channel) {
    this.send(JSON.stringify({ type: "unsubscribe", channel }));
  }
  close() {
    this.finished = true;
    this.stopTimers();
    this.closeSocket();
  }
  send(text) {
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
  frame(data) {
    if (this.finished) return;
    this.lastFrameAt = Date.now();
    let f;
    try {
      f = JSON.parse(typeof data === "string" ? data : String(data));
    } catch {
      this.cfg.log("ignoring a websocket frame that is not JSON");
      return;
    }
    if (!f || typeof f !== "object") return;
    switch (f.type) {
      case "connected":
        this.onConnected(typeof f.clientId === "string" ? f.clientId : void 0, typeof f.timestamp === "number" ? f.timestamp : void 0);
        break;
      case "subscribed":
        this.on.subscribed(String(f.channel), typeof f.recovered === "boolean" ? f.recovered : void 0);
        break;
      case "message":
        this.on.message(messageFromFrame(f));
        break;
      case "gap":
        this.on.gap({ channel: String(f.channel), after: String(f.after), before: String(f.before), reason: String(f.reason ?? "") });
        break;
      case "error": {
        const channel = typeof f.channel === "string" ? f.channel : void 0;
        const err = errorFromFrame(String(f.error ?? f.message ?? "server error"), f.code, channel);
        if (!channel && (f.code === "UNAUTHORIZED" || f.code === "TOKEN_EXPIRED")) {
          this.fatal = err;
        } else {
          this.on.error(err);
        }
        break;
      }
      case "pong":
      case "unsubscribed":
      default:
        break;
    }
  }
  onConnected(clientId, timestamp) {
    if (this.opened) return;
    this.opened = true;
    if (this.openTimer) clearTimeout(this.openTimer);
    this.openTimer = void 0;
    this.lastFrameAt = Date.now();
    this.heartbeat = setInterval(() => this.beat(), this.cfg.heartbeatInterval);
    const info = {};
    if (clientId !== void 0) info.clientId = clientId;
    if (timestamp !== void 0) info.timestamp = timestamp;
    this.on.open(info);
    const queued = this.queue;
    this.queue = [];
    for (const text of queued) this.send(text);
  }
  beat() {
    if (Date.now() - this.lastFrameAt > 2 * this.cfg.heartbeatInterval) {
      this.finish(`no frame from the server for ${2 * this.cfg.heartbeatInterval} ms`);
      return;
    }
    this.send('{"type":"ping"}');
  }
  finish(reason) {
    if (this.finished) return;
    this.finished = true;
    this.stopTimers();
    this.closeSocket();
    this.cfg.log("websocket transport ended:", reason);
    const info = { opened: this.opened, reason };
    if (this.fatal) info.fatal = this.fatal;
    if (this.timedOut) info.timedOut = true;
    this.on.close(info);
  }
  stopTimers() {
    if (this.openTimer) clearTimeout(this.openTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.openTimer = void 0;
    this.heartbeat = void 0;
  }
  closeSocket() {
    const ws = this.ws;
    this.ws = void 0;
    if (!ws) return;
    ws.onmessage = null;
    ws.onclose = null;
    ws.onopen = null;
    ws.onerror = () => {
    };
    try {
      ws.close(1e3, "client closed");
    } catch {
    }
  }
};
function messageFromFrame(f) {
  const timestamp = typeof f.timestamp === "number" ? f.timestamp : Date.now();
  return {
    id: String(f.messageId ?? f.id),
    channel: String(f.channel),
    eventType: typeof f.eventType === "string" ? f.eventType : "message",
    clientId: typeof f.clientId === "string" ? f.clientId : "",
    content: f.data ?? f.content ?? {},
    timestamp,
    createdAt: typeof f.createdAt === "string" ? f.createdAt : new Date(timestamp).toISOString()
  };
}

// src/client.ts
var PushFloClient = class extends TypedEventEmitter {
  constructor(options) {
    super();
    this.channels = /* @__PURE__ */ new Map();
    this.stateListeners = /* @__PURE__ */ new Set();
    this.state = "disconnected";
    this.wanted = false;
    this.retrying = false;
    this.attempts = 0;
    this.attemptSeq = 0;
    this.primaryFailures = 0;
    this.waiters = [];
    this.currentClientId = null;
    /** Set when the token must be replaced (through getToken) before the next attempt. */
    this.tokenStale = false;
    /** Set once a refused token was replaced since the last successful connection. */
    this.tokenRetried = false;
    this.listeningOnline = false;
    this.opts = resolveOptions(options);
    this.token = options.publishKey ?? "";
    this.log = this.opts.debug ? (...args) => console.log("[PushFlo]", ...args) : () => {
    };
    this.onOnline = () => {
      if (this.wanted && this.retryTimer) {
        clearTimeout(this.retryTimer);
        this.startAttempt();
      }
    };
    if (this.opts.autoConnect) {
      queueMicrotask(() => {
        if (this.state === "disconnected" && !this.wanted) this.connect().catch(() => {
        });
      });
    }
  }
  /** connectionState is the current state of the connection. */
  get connectionState() {
    return this.state;
  }
  /** getConnectionState returns the current state of the connection. */
  getConnectionState() {
    return this.state;
  }
  /** isConnected is true while a transport is open. */
  get isConnected() {
    return this.state === "connected";
  }
  /**
   * isReconnecting (pushflo) is true while the client is retrying after a
   * drop or a failed attempt: waiting out a backoff (state `disconnected`
   * or `error`) or trying again (`connecting`).
   */
  get isReconnecting() {
    return this.retrying;
  }
  /** clientId is the ID the server gave the current WebSocket connection; null before one opens. */
  get clientId() {
    return this.currentClientId;
  }
  /** transport (pushflo) is the kind of the open (or opening) connection, if any. */
  get transport() {
    return this.transportKind;
  }
  /** getTransport (pushflo) returns the kind of the open (or opening) connection, if any. */
  getTransport() {
    return this.transportKind;
  }
  /**
   * connect opens the connection and resolves once it is open; when
   * already connected it resolves at once, and while connecting it returns
   * the same promise. It rejects with the first failed attempt's error: a
   * `ConnectionError` (code `CONNECTION_TIMEOUT` after `connectionTimeout`,
   * `CONNECTION_FAILED` otherwise; `retryable` is true) or an
   * `AuthenticationError` for a refused key. With `autoReconnect` the
   * client goes on retrying in the background after a retryable failure;
   * `connectWaitsForRetries` makes connect() wait for those retries.
   */
  connect() {
    if (this.state === "connected") return Promise.resolve();
    if (this.pending) return this.pending;
    const p = new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
    p.catch(() => {
    });
    this.pending = p;
    if (!this.wanted) {
      this.wanted = true;
      this.attempts = 0;
      this.watchOnline(true);
      this.startAttempt();
    } else if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.startAttempt();
    }
    return p;
  }
  /**
   * disconnect closes the connection and stops reconnecting; the
   * `disconnected` event gets the reason "Disconnected by client".
   * Subscriptions and their last message IDs are kept: `connect()` resumes
   * them.
   */
  disconnect() {
    const was = this.state;
    const wanted = this.wanted;
    this.stop();
    for (const ch of this.channels.values()) ch.subscribed = false;
    this.setState("disconnected");
    if (was !== "disconnected" || wanted) this.emit("disconnected", "Disconnected by client");
    this.settle(new ConnectionError("disconnect() was called before the connection opened", "CONNECTION_CLOSED", { retryable: false }));
  }
  /** destroy disconnects and forgets every subscription (calling their `onUnsubscribed`) and listener. */
  destroy() {
    this.disconnect();
    for (const [channel, ch] of this.channels) {
      for (const e of ch.entries) safeCall((info) => e.opts.onUnsubscribed?.(info), { channel });
    }
    this.channels.clear();
    this.stateListeners.clear();
    this.removeAllListeners();
  }
  /**
   * subscribe starts delivering a channel's messages to `options.onMessage`,
   * now if connected, otherwise once the connection opens. Several
   * subscriptions to one channel share one server subscription and each
   * sees every message once. Any channel name the protocol allows works
   * (1–128 of `a-z A-Z 0-9 - _ : . @ = ,`); others throw ValidationError.
   * `@pushflodev/sdk` also refuses names outside its stricter slug rule
   * (see `isValidChannelSlug`); this SDK does not.
   */
  subscribe(channel, options = {}) {
    const problem = channelProblem(channel);
    if (problem) throw new ValidationError(problem, "channel");
    const entry = { opts: options };
    let ch = this.channels.get(channel);
    const isNew = !ch;
    if (!ch) {
      ch = { entries: /* @__PURE__ */ new Set(), subscribed: false };
      if (options.lastMessageId !== void 0) ch.lastId = options.lastMessageId;
      this.channels.set(channel, ch);
    }
    ch.entries.add(entry);
    if (isNew) {
      this.conn?.subscribe(channel, ch.lastId);
    } else if (ch.subscribed) {
      const state = ch;
      queueMicrotask(() => {
        if (state.entries.has(entry) && state.subscribed) safeCall((info) => options.onSubscribed?.(info), { channel });
      });
    }
    let active = true;
    return {
      channel,
      unsubscribe: () => {
        if (!active) return;
        active = false;
        this.removeEntry(channel, entry);
      }
    };
  }
  /** unsubscribe ends every subscription to a channel. */
  unsubscribe(channel) {
    const ch = this.channels.get(channel);
    if (!ch) return;
    for (const e of [...ch.entries]) this.removeEntry(channel, e);
  }
  /** isSubscribed reports whether the client has a subscription to `channel` (confirmed by the server or not). */
  isSubscribed(channel) {
    return this.channels.has(channel);
  }
  /** getSubscribedChannels lists the channels with at least one subscription. */
  getSubscribedChannels() {
    return [...this.channels.keys()];
  }
  /** getLastMessageId (pushflo) returns the last message ID delivered on a channel, the point a resume starts after. */
  getLastMessageId(channel) {
    return this.channels.get(channel)?.lastId;
  }
  /** onConnectionChange calls `listener` with every new state and returns a function that stops it. */
  onConnectionChange(listener) {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }
  // ---- connection life cycle ----
  removeEntry(channel, entry) {
    const ch = this.channels.get(channel);
    if (!ch || !ch.entries.delete(entry)) return;
    safeCall((info) => entry.opts.onUnsubscribed?.(info), { channel });
    if (ch.entries.size === 0) {
      this.channels.delete(channel);
      this.conn?.unsubscribe(channel);
    }
  }
  primary() {
    return this.opts.transports[0];
  }
  chooseKind() {
    const t = this.opts.transports;
    if (t.length > 1 && this.primaryFailures >= this.opts.sseFallbackAfter) return t[1];
    return t[0];
  }
  /** needsToken reports whether the next connection must first get a token from getToken. */
  needsToken() {
    if (!this.opts.getToken) return false;
    if (this.token === "" || this.tokenStale) return true;
    const exp = tokenExpiry(this.token);
    return exp !== void 0 && exp - Date.now() < 1e3;
  }
  startAttempt() {
    this.retryTimer = void 0;
    if (!this.wanted) return;
    const seq = ++this.attemptSeq;
    this.setState("connecting");
    if (!this.needsToken()) {
      this.openTransport();
      return;
    }
    this.log("asking getToken for a connection token");
    this.fetchToken().then(
      () => {
        if (seq === this.attemptSeq && this.wanted) this.openTransport();
      },
      (err) => {
        if (seq !== this.attemptSeq || !this.wanted) return;
        const cause = err instanceof Error ? err : new Error(String(err));
        this.attemptFailed(ConnectionError.failed(`getToken failed: ${cause.message}`, cause), false);
      }
    );
  }
  async fetchToken() {
    const tok = await this.opts.getToken();
    if (typeof tok !== "string" || tok === "") throw new Error("getToken returned no token");
    this.token = tok;
    this.tokenStale = false;
  }
  openTransport() {
    const kind = this.chooseKind();
    this.log(`connecting over ${kind} (attempt ${this.attempts + 1})`);
    const t = this.makeTransport(kind, {
      open: (info) => this.onOpen(t, info),
      close: (info) => this.onClose(t, info)
    });
    this.conn = t;
    this.transportKind = kind;
    for (const [channel, ch] of this.channels) t.subscribe(channel, ch.lastId);
  }
  makeTransport(kind, life) {
    let self;
    const current = () => self !== void 0 && self === this.conn;
    const handlers = {
      open: life.open,
      close: life.close,
      message: (m) => current() && this.deliver(m),
      subscribed: (c, r) => current() && this.onSubscribed(c, r),
      gap: (g) => current() && this.onGap(g),
      error: (e) => current() && this.onChannelError(e)
    };
    const o = this.opts;
    if (kind === "websocket") {
      const WS = o.WebSocket ?? globalThis.WebSocket;
      if (!WS) {
        self = new FailedTransport("websocket", "no WebSocket constructor: pass the WebSocket option (in Node 20, the ws package)", handlers);
      } else {
        self = new WebSocketTransport(
          {
            url: `${o.baseUrl.replace(/^http/, "ws")}/ws?token=${encodeURIComponent(this.token)}`,
            WebSocket: WS,
            connectionTimeout: o.connectionTimeout,
            heartbeatInterval: o.heartbeatInterval,
            log: this.log
          },
          handlers
        );
      }
    } else {
      const f = o.fetch ?? (typeof fetch === "function" ? fetch.bind(globalThis) : void 0);
      const cfg = {
        baseUrl: o.baseUrl,
        token: this.token,
        eventTypes: o.sseEventTypes,
        connectionTimeout: o.connectionTimeout,
        idleTimeout: Math.max(4 * o.heartbeatInterval, 3e4),
        log: this.log
      };
      if (o.EventSource) cfg.EventSource = o.EventSource;
      if (f) cfg.fetch = f;
      self = new SSETransport(cfg, handlers);
    }
    return self;
  }
  onOpen(t, info) {
    if (t !== this.conn) return;
    this.connected(t, info);
  }
  /** connected records that transport `t` (the current one) is open. */
  connected(t, info) {
    this.attempts = 0;
    this.retrying = false;
    this.tokenRetried = false;
    if (t.kind === this.primary()) this.primaryFailures = 0;
    this.currentClientId = info.clientId ?? null;
    this.log(`connected over ${t.kind}`);
    this.setState("connected");
    this.emit("connected", { clientId: info.clientId ?? "", timestamp: info.timestamp ?? Date.now(), transport: t.kind });
    this.settle();
    if (t.kind !== this.primary()) this.scheduleProbe();
    this.scheduleTokenRefresh();
  }
  onClose(t, info) {
    if (t !== this.conn) return;
    this.conn = void 0;
    this.currentClientId = null;
    this.clearRefresh();
    for (const ch of this.channels.values()) ch.subscribed = false;
    if (!info.opened && t.kind === this.primary()) this.primaryFailures++;
    const wasConnected = this.state === "connected";
    if (wasConnected) {
      this.setState("disconnected");
      this.emit("disconnected", info.reason);
    }
    if (info.fatal) {
      if (this.opts.getToken && info.fatal instanceof AuthenticationError && !this.tokenRetried) {
        this.log(`token refused (${info.fatal.code}); asking getToken for a new one`);
        this.tokenRetried = true;
        this.tokenStale = true;
        this.startAttempt();
        return;
      }
      this.giveUp(info.fatal);
      return;
    }
    const err = info.timedOut ? ConnectionError.timeout(this.opts.connectionTimeout) : wasConnected ? ConnectionError.closed(info.reason) : ConnectionError.failed(info.reason);
    this.attemptFailed(err, wasConnected);
  }
  /** attemptFailed handles a failed attempt, or a drop when `dropped`: report, then retry with backoff or stop. */
  attemptFailed(err, dropped) {
    this.transportKind = void 0;
    if (!dropped) {
      this.setState("error");
      this.emit("error", err);
      if (!this.opts.connectWaitsForRetries || !this.opts.autoReconnect) this.settle(err);
    }
    if (!this.opts.autoReconnect) {
      this.stop();
      return;
    }
    this.attempts++;
    if (this.attempts > this.opts.retryLimit) {
      this.giveUp(new ConnectionError(`Max reconnection attempts exceeded (${this.attempts - 1}); last: ${err.message}`, "MAX_RECONNECT_ATTEMPTS", {
        retryable: false,
        cause: err
      }));
      return;
    }
    const delay = backoffDelay(this.attempts, this.opts.reconnectDelay, this.opts.maxReconnectDelay);
    this.log(`${err.message}; retrying in ${delay} ms`);
    this.retrying = true;
    this.emit("reconnecting", { attempt: this.attempts, delay });
    this.retryTimer = setTimeout(() => this.startAttempt(), delay);
  }
  giveUp(err) {
    this.stop();
    this.setState("error");
    this.emit("error", err);
    this.settle(err);
  }
  /** stop ends every transport and timer and stops wanting a connection. */
  stop() {
    this.wanted = false;
    this.retrying = false;
    this.attemptSeq++;
    this.watchOnline(false);
    this.clearTimers();
    this.dropSpare();
    const t = this.conn;
    this.conn = void 0;
    this.transportKind = void 0;
    this.currentClientId = null;
    t?.close();
  }
  /** scheduleProbe tries the primary transport again later, while on the fallback. */
  scheduleProbe() {
    if (this.probeTimer || this.spare || this.opts.websocketRetryInterval <= 0 || this.primary() !== "websocket") return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = void 0;
      if (!this.wanted) return;
      this.log("probing websocket");
      this.trySpare("websocket", true);
    }, this.opts.websocketRetryInterval);
  }
  /**
   * scheduleTokenRefresh arranges, when getToken is set and the token has
   * an `exp`, to fetch a new token `tokenRefreshMargin` before it runs out
   * and move to a new connection that uses it.
   */
  scheduleTokenRefresh() {
    this.clearRefresh();
    if (!this.opts.getToken) return;
    const exp = tokenExpiry(this.token);
    if (exp === void 0) return;
    const lifetime = exp - Date.now();
    const margin = Math.min(this.opts.tokenRefreshMargin, lifetime / 2);
    const delay = Math.max(1e3, lifetime - margin);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = void 0;
      if (!this.wanted || this.state !== "connected" || this.spare) return;
      this.log("token expires soon; asking getToken for a new one");
      const seq = this.attemptSeq;
      this.fetchToken().then(
        () => {
          if (seq === this.attemptSeq && this.wanted && this.conn && !this.spare) this.trySpare(this.conn.kind, false);
        },
        (err) => {
          this.emit("error", new AuthenticationError(`getToken failed: ${err instanceof Error ? err.message : String(err)}`, "TOKEN_REFRESH_FAILED"));
        }
      );
    }, delay);
  }
  /** trySpare opens a second transport beside the current one and adopts it if it opens. */
  trySpare(kind, isProbe) {
    const p = this.makeTransport(kind, {
      open: (info) => {
        if (p !== this.spare) return;
        this.spare = void 0;
        this.adopt(p, info);
      },
      close: () => {
        if (p !== this.spare) return;
        this.spare = void 0;
        if (isProbe) this.scheduleProbe();
      }
    });
    this.spare = p;
  }
  /** adopt makes an opened spare transport the connection, replacing the old one. */
  adopt(p, info) {
    this.log(`moving from ${this.transportKind} to a new ${p.kind} connection`);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = void 0;
    const old = this.conn;
    const changed = p.kind !== this.transportKind;
    this.conn = p;
    this.transportKind = p.kind;
    old?.close();
    for (const ch of this.channels.values()) ch.subscribed = false;
    for (const [channel, ch] of this.channels) p.subscribe(channel, ch.lastId);
    if (changed) this.emit("transportChange", p.kind);
    this.connected(p, info);
  }
  dropSpare() {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = void 0;
    const p = this.spare;
    this.spare = void 0;
    p?.close();
  }
  watchOnline(on) {
    const w = globalThis.window;
    if (!w || typeof w.addEventListener !== "function" || on === this.listeningOnline) return;
    this.listeningOnline = on;
    if (on) w.addEventListener("online", this.onOnline);
    else w.removeEventListener("online", this.onOnline);
  }
  clearRefresh() {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = void 0;
  }
  clearTimers() {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = void 0;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = void 0;
    this.clearRefresh();
  }
  settle(err) {
    const waiters = this.waiters;
    this.waiters = [];
    this.pending = void 0;
    for (const w of waiters) {
      if (err) w.reject(err);
      else w.resolve();
    }
  }
  setState(s) {
    if (s === this.state) return;
    this.state = s;
    for (const l of [...this.stateListeners]) safeCall(l, s);
    this.emit("stateChange", s);
  }
  // ---- deliveries ----
  deliver(m) {
    const ch = this.channels.get(m.channel);
    if (!ch) return;
    if (!isAfter(m.id, ch.lastId)) return;
    ch.lastId = m.id;
    for (const e of [...ch.entries]) safeCall(e.opts.onMessage, m);
    this.emit("message", m);
  }
  onSubscribed(channel, recovered) {
    const ch = this.channels.get(channel);
    if (!ch) return;
    ch.subscribed = true;
    const info = { channel };
    if (recovered !== void 0) info.recovered = recovered;
    for (const e of [...ch.entries]) safeCall((i) => e.opts.onSubscribed?.(i), info);
  }
  onGap(g) {
    const ch = this.channels.get(g.channel);
    if (ch) for (const e of [...ch.entries]) safeCall(e.opts.onGap, g);
    this.emit("gap", g);
  }
  onChannelError(err) {
    const ch = err.channel !== void 0 ? this.channels.get(err.channel) : void 0;
    if (ch) for (const e of [...ch.entries]) safeCall(e.opts.onError, err);
    this.emit("error", err);
  }
};
var FailedTransport = class {
  constructor(kind, reason, on) {
    this.kind = kind;
    this.closed = false;
    setTimeout(() => {
      if (!this.closed) on.close({ opened: false, reason });
    }, 0);
  }
  subscribe() {
  }
  unsubscribe() {
  }
  close() {
    this.closed = true;
  }
};
function resolveOptions(o) {
  if (!o || (typeof o.publishKey !== "string" || o.publishKey === "") && typeof o.getToken !== "function") {
    throw new AuthenticationError("Publish key is required", "MISSING_PUBLISH_KEY");
  }
  const problems = [];
  let field;
  const problem = (name, text) => {
    field ?? (field = name);
    problems.push(text);
  };
  const baseUrl = o.baseUrl || defaults.baseUrl;
  if (!/^(https?|wss?):\/\//.test(baseUrl)) {
    problem("baseUrl", `baseUrl ${JSON.stringify(baseUrl)} must start with http://, https://, ws:// or wss://`);
  }
  const transports = o.transports ?? ["websocket", "sse"];
  if (!Array.isArray(transports) || transports.length === 0 || transports.some((t) => t !== "websocket" && t !== "sse")) {
    problem("transports", `transports ${JSON.stringify(transports)} must list one or both of "websocket" and "sse"`);
  }
  const num = (name, def, min) => {
    const v = o[name];
    if (v === void 0) return def;
    if (typeof v !== "number" || Number.isNaN(v) || v < min) {
      problem(name, `${name} is ${JSON.stringify(v)}; it must be a number of at least ${min}`);
      return def;
    }
    return v;
  };
  const maxReconnectAttempts = num("maxReconnectAttempts", 0, 0);
  const r = {
    baseUrl: baseUrl.replace(/\/+$/, "").replace(/^ws/, "http"),
    autoConnect: o.autoConnect ?? false,
    connectionTimeout: num("connectionTimeout", 3e4, 1),
    heartbeatInterval: num("heartbeatInterval", 25e3, 1),
    autoReconnect: o.autoReconnect ?? true,
    retryLimit: o.maxRetries !== void 0 ? num("maxRetries", Infinity, 0) : maxReconnectAttempts === 0 ? Infinity : maxReconnectAttempts,
    reconnectDelay: num("reconnectDelay", 1e3, 0),
    maxReconnectDelay: num("maxReconnectDelay", 3e4, 0),
    debug: o.debug ?? false,
    transports: [...new Set(transports)],
    sseFallbackAfter: num("sseFallbackAfter", 3, 1),
    websocketRetryInterval: num("websocketRetryInterval", 6e4, 0),
    sseEventTypes: o.sseEventTypes ?? [],
    connectWaitsForRetries: o.connectWaitsForRetries ?? false,
    tokenRefreshMargin: num("tokenRefreshMargin", 3e4, 0)
  };
  if (problems.length > 0) throw new ValidationError(`invalid PushFloClient options: ${problems.join("; ")}`, field);
  if (o.WebSocket) r.WebSocket = o.WebSocket;
  if (o.EventSource) r.EventSource = o.EventSource;
  if (o.fetch) r.fetch = o.fetch;
  if (o.getToken) r.getToken = o.getToken;
  return r;
}

// src/slug.ts
var MAX_SLUG_LENGTH = 128;
var MIN_SLUG_LENGTH = 1;
var slugPattern = /^[a-z0-9]+(-[a-z0-9]+)*$/;
function isValidChannelSlug(slug) {
  return typeof slug === "string" && slug.length >= MIN_SLUG_LENGTH && slug.length <= MAX_SLUG_LENGTH && slugPattern.test(slug);
}
function toChannelSlug(str) {
  const words = str.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w !== "");
  return words.join("-").slice(0, MAX_SLUG_LENGTH).replace(/-+$/, "");
}
function validateChannelSlug(slug) {
  if (typeof slug !== "string" || slug === "") return { valid: false, error: "Channel slug is required" };
  const fail = (error) => ({ valid: false, error, suggestion: toChannelSlug(slug) });
  if (slug.length > MAX_SLUG_LENGTH) return fail(`Channel slug cannot exceed ${MAX_SLUG_LENGTH} characters (got ${slug.length})`);
  if (slug !== slug.toLowerCase()) return fail("Channel slug must be lowercase");
  if (slug.startsWith("-")) return fail("Channel slug cannot start with a hyphen");
  if (slug.endsWith("-")) return fail("Channel slug cannot end with a hyphen");
  if (slug.includes("--")) return fail("Channel slug cannot contain consecutive hyphens");
  const bad = [...new Set(slug.match(/[^a-z0-9-]/g) ?? [])];
  if (bad.length > 0) {
    return fail(`Channel slug contains invalid characters: ${bad.join(", ")}. Only lowercase letters, numbers, and hyphens are allowed.`);
  }
  return { valid: true };
}

// src/bundle.ts
try {
  defaults.baseUrl = new URL(import.meta.url).origin;
} catch {
}
export {
  AuthenticationError,
  ConnectionError,
  ERROR_CODES,
  MAX_SLUG_LENGTH,
  MIN_SLUG_LENGTH,
  NetworkError,
  NotFoundError,
  PushFloClient,
  PushFloError,
  ValidationError,
  compareIds,
  isValidChannelSlug,
  toChannelSlug,
  validateChannelSlug
};
