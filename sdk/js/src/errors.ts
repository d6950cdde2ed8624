/**
 * Error codes: the server's wire codes (REST `code`, WebSocket error frames)
 * and the SDK's own codes for failures that never reached a server. The
 * names are those of `@pushflodev/sdk`; `UNAVAILABLE` and `OUTCOME_UNKNOWN`
 * are pushflo's.
 */
export const ERROR_CODES = {
  CONNECTION_FAILED: 'CONNECTION_FAILED',
  CONNECTION_TIMEOUT: 'CONNECTION_TIMEOUT',
  CONNECTION_CLOSED: 'CONNECTION_CLOSED',
  INVALID_API_KEY: 'INVALID_API_KEY',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  NETWORK_ERROR: 'NETWORK_ERROR',
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  NOT_FOUND: 'NOT_FOUND',
  VALIDATION_ERROR: 'VALIDATION_ERROR',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  UNAVAILABLE: 'UNAVAILABLE',
  OUTCOME_UNKNOWN: 'OUTCOME_UNKNOWN',
  SERVER_ERROR: 'SERVER_ERROR',
} as const;

/** ErrorCode is one of ERROR_CODES, or another code a server sent. */
export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES] | (string & {});

/** PushFloErrorOptions are the optional parts of every SDK error. */
export interface PushFloErrorOptions {
  /** Whether trying again may succeed. Default false. */
  retryable?: boolean;
  /** The error that caused this one. */
  cause?: Error;
  /** pushflo: the HTTP status the server answered with; 0 (the default) when there was none. */
  status?: number;
  /** pushflo: the channel the error is about. */
  channel?: string;
}

/**
 * PushFloError is the base of every error the SDK throws, rejects with or
 * hands to an error callback. `code` is the server's wire code when the
 * server answered; `retryable` says whether trying again may help.
 */
export class PushFloError extends Error {
  /** Error code for programmatic handling. */
  readonly code: string;
  /** Whether this error may go away if the operation is tried again. */
  readonly retryable: boolean;
  /** The error that caused this one, if any. */
  readonly cause?: Error;
  /** pushflo: the HTTP status of the answer; 0 when no HTTP answer was involved. */
  readonly status: number;
  /** pushflo: the channel the error is about, when it is about one. */
  readonly channel?: string;

  constructor(message: string, code: string, options: PushFloErrorOptions = {}) {
    super(message);
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = 'PushFloError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    if (options.cause !== undefined) this.cause = options.cause;
    this.status = options.status ?? 0;
    if (options.channel !== undefined) this.channel = options.channel;
    const capture = (Error as any).captureStackTrace;
    if (typeof capture === 'function') capture(this, new.target);
  }

  /** toJSON returns a plain object for logging: name, message, code, retryable, stack and the cause's message. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      code: this.code,
      retryable: this.retryable,
      stack: this.stack,
      cause: this.cause?.message,
    };
  }

  /** toString reads `Name [CODE]: message`. */
  override toString(): string {
    return `${this.name} [${this.code}]: ${this.message}`;
  }
}

/** ConnectionError is a WebSocket (or SSE) connection that could not be opened or was lost. Retryable by default. */
export class ConnectionError extends PushFloError {
  constructor(message: string, code: string = ERROR_CODES.CONNECTION_FAILED, options: PushFloErrorOptions = {}) {
    super(message, code, { retryable: true, ...options });
    this.name = 'ConnectionError';
  }

  /** timeout is the error for an attempt that did not open within `timeoutMs`. */
  static timeout(timeoutMs: number): ConnectionError {
    return new ConnectionError(`Connection timed out after ${timeoutMs}ms`, ERROR_CODES.CONNECTION_TIMEOUT, { retryable: true });
  }

  /** closed is the error for a connection that ended unexpectedly. */
  static closed(reason?: string): ConnectionError {
    return new ConnectionError(reason ? `Connection closed: ${reason}` : 'Connection closed unexpectedly', ERROR_CODES.CONNECTION_CLOSED, {
      retryable: true,
    });
  }

  /** failed is the error for an attempt that failed. */
  static failed(reason?: string, cause?: Error): ConnectionError {
    const options: PushFloErrorOptions = { retryable: true };
    if (cause !== undefined) options.cause = cause;
    return new ConnectionError(reason ? `Connection failed: ${reason}` : 'Failed to connect', ERROR_CODES.CONNECTION_FAILED, options);
  }
}

/** AuthenticationError is a missing, unknown, expired or wrong-role key or token (401/403). Never retryable. */
export class AuthenticationError extends PushFloError {
  constructor(message: string, code: string = ERROR_CODES.UNAUTHORIZED, options: PushFloErrorOptions = {}) {
    super(message, code, { retryable: false, ...options });
    this.name = 'AuthenticationError';
  }

  /** invalidKey is the error for a key of the wrong kind, e.g. `invalidKey('secret')`. */
  static invalidKey(keyType?: string): AuthenticationError {
    return new AuthenticationError(keyType ? `Invalid ${keyType} API key` : 'Invalid API key', ERROR_CODES.INVALID_API_KEY);
  }

  /** unauthorized is the 401 error. */
  static unauthorized(reason?: string): AuthenticationError {
    return new AuthenticationError(reason ?? 'Unauthorized - check your API key', ERROR_CODES.UNAUTHORIZED, { status: 401 });
  }

  /** forbidden is the 403 error. */
  static forbidden(action?: string): AuthenticationError {
    return new AuthenticationError(
      action ? `Access forbidden: insufficient permissions for ${action}` : 'Access forbidden: insufficient permissions',
      ERROR_CODES.FORBIDDEN,
      { status: 403 },
    );
  }
}

/**
 * NetworkError is an HTTP request that failed: no answer, a timeout, or an
 * error status (`statusCode`). 5xx, 429 and no answer are retryable.
 */
export class NetworkError extends PushFloError {
  /** The HTTP status code, when the server answered. */
  readonly statusCode?: number;

  constructor(message: string, code: string = ERROR_CODES.NETWORK_ERROR, options: PushFloErrorOptions & { statusCode?: number } = {}) {
    const { statusCode, ...rest } = options;
    super(message, code, { retryable: true, ...(statusCode !== undefined ? { status: statusCode } : {}), ...rest });
    this.name = 'NetworkError';
    if (statusCode !== undefined) this.statusCode = statusCode;
  }

  /** fromFetch wraps a fetch that threw (no answer). */
  static fromFetch(cause: Error): NetworkError {
    return new NetworkError(`Network request failed: ${cause.message}`, ERROR_CODES.NETWORK_ERROR, { retryable: true, cause });
  }

  /** timeout is the error for a request with no answer within `timeoutMs`. */
  static timeout(timeoutMs: number): NetworkError {
    return new NetworkError(`Request timed out after ${timeoutMs}ms`, ERROR_CODES.REQUEST_TIMEOUT, { retryable: true });
  }

  /**
   * fromStatus builds the error for an HTTP error status: 404 `NOT_FOUND`,
   * 400/422 `VALIDATION_ERROR`, 429 `RATE_LIMITED`, others `SERVER_ERROR`;
   * retryable for 5xx and 429.
   */
  static fromStatus(statusCode: number, message?: string): NetworkError {
    let code: string = ERROR_CODES.SERVER_ERROR;
    if (statusCode === 404) code = ERROR_CODES.NOT_FOUND;
    else if (statusCode === 400 || statusCode === 422) code = ERROR_CODES.VALIDATION_ERROR;
    else if (statusCode === 429) code = ERROR_CODES.RATE_LIMITED;
    return new NetworkError(message ?? statusMessage(statusCode), code, {
      retryable: statusCode >= 500 || statusCode === 429,
      statusCode,
    });
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), statusCode: this.statusCode };
  }
}

/** NotFoundError (pushflo) is a 404: a NetworkError with `statusCode` 404 and code `NOT_FOUND`. */
export class NotFoundError extends NetworkError {
  constructor(message: string, options: PushFloErrorOptions = {}) {
    super(message, ERROR_CODES.NOT_FOUND, { ...options, retryable: false, statusCode: 404 });
    this.name = 'NotFoundError';
  }
}

/** ValidationError is input the SDK refused before sending it; `field` names the input. Never retryable. */
export class ValidationError extends PushFloError {
  /** The field that failed validation. */
  readonly field?: string;

  constructor(message: string, field?: string) {
    super(message, ERROR_CODES.VALIDATION_ERROR, { retryable: false });
    this.name = 'ValidationError';
    if (field !== undefined) this.field = field;
  }

  /**
   * invalidChannelSlug is the error `@pushflodev/sdk` throws for a name
   * outside its slug rule. pushflo's SDK accepts every protocol-valid
   * channel name and uses `channelProblem` instead; this helper is kept
   * for code that builds the same error.
   */
  static invalidChannelSlug(slug: string): ValidationError {
    return new ValidationError(
      `Invalid channel slug '${slug}': must be 1-128 characters, lowercase alphanumeric with hyphens, cannot start or end with a hyphen`,
      'slug',
    );
  }

  /** required is the error for a missing field. */
  static required(field: string): ValidationError {
    return new ValidationError(`${field} is required`, field);
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), field: this.field };
  }
}

function statusMessage(statusCode: number): string {
  const messages: Record<number, string> = {
    400: 'Bad request',
    404: 'Resource not found',
    413: 'Payload too large',
    422: 'Validation error',
    429: 'Rate limit exceeded',
    500: 'Internal server error',
    502: 'Bad gateway',
    503: 'Service unavailable',
    504: 'Gateway timeout',
  };
  return messages[statusCode] ?? `HTTP error ${statusCode}`;
}

/**
 * errorFromResponse maps a REST error answer to the error `@pushflodev/sdk`
 * throws for it: AuthenticationError for 401/403, otherwise a NetworkError
 * (NotFoundError for 404) with `statusCode` and the server's wire `code`.
 * 429 and 5xx are retryable, except `OUTCOME_UNKNOWN`: that publish may
 * have been applied, and only its Idempotency-Key makes a retry safe.
 */
export function errorFromResponse(status: number, message: string | undefined, code: string | undefined): PushFloError {
  if (status === 401) {
    const e = AuthenticationError.unauthorized(message);
    return code && code !== ERROR_CODES.UNAUTHORIZED ? new AuthenticationError(e.message, code, { status }) : e;
  }
  if (status === 403) return new AuthenticationError(message ?? 'Access forbidden: insufficient permissions', ERROR_CODES.FORBIDDEN, { status });
  if (status === 404) return new NotFoundError(message ?? 'Resource not found');
  const base = NetworkError.fromStatus(status, message);
  const wire = code || base.code;
  // OUTCOME_UNKNOWN may have been applied: only an Idempotency-Key makes a retry safe, which the caller decides.
  const retryable = wire === ERROR_CODES.OUTCOME_UNKNOWN ? false : base.retryable;
  return new NetworkError(base.message, wire, { retryable, statusCode: status });
}

/** errorFromFrame maps a WebSocket or SSE error frame (no HTTP status) to an error. */
export function errorFromFrame(message: string, code: string | undefined, channel?: string): PushFloError {
  const c = code || ERROR_CODES.SERVER_ERROR;
  const options: PushFloErrorOptions = {};
  if (channel !== undefined) options.channel = channel;
  switch (c) {
    case ERROR_CODES.UNAUTHORIZED:
    case ERROR_CODES.FORBIDDEN:
    case ERROR_CODES.TOKEN_EXPIRED:
    case 'INVALID_TOKEN':
      return new AuthenticationError(message, c, options);
    case ERROR_CODES.RATE_LIMITED:
    case ERROR_CODES.UNAVAILABLE:
    case ERROR_CODES.SERVER_ERROR:
      return new PushFloError(message, c, { ...options, retryable: true });
    default:
      return new PushFloError(message, c, options);
  }
}
