/**
 * Error codes the server sends on the wire (REST `code`, WebSocket error
 * frames), plus the SDK's own codes for failures that never reached a server.
 */
export type ErrorCode =
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'VALIDATION_ERROR'
  | 'PAYLOAD_TOO_LARGE'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  | 'SERVER_ERROR'
  | 'NETWORK_ERROR'
  | 'TIMEOUT'
  | 'CONNECTION_ERROR'
  | (string & {});

/**
 * PushFloError is the base of every error the SDK throws, rejects with or
 * hands to an onError callback. `code` is the server's wire code when the
 * server answered, and `status` its HTTP status (0 when there was none).
 */
export class PushFloError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** The channel the error is about, when it is about one. */
  readonly channel?: string;

  constructor(message: string, code: ErrorCode, status = 0, channel?: string) {
    super(message);
    this.name = 'PushFloError';
    this.code = code;
    this.status = status;
    if (channel !== undefined) this.channel = channel;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** AuthenticationError is a missing, unknown or wrong-role key (401/403). */
export class AuthenticationError extends PushFloError {
  constructor(message: string, code: ErrorCode = 'UNAUTHORIZED', status = 401, channel?: string) {
    super(message, code, status, channel);
    this.name = 'AuthenticationError';
  }
}

/** ValidationError is input the SDK or the server refused (400/413). */
export class ValidationError extends PushFloError {
  constructor(message: string, code: ErrorCode = 'VALIDATION_ERROR', status = 400) {
    super(message, code, status);
    this.name = 'ValidationError';
  }
}

/** NotFoundError is a channel or resource that does not exist (404). */
export class NotFoundError extends PushFloError {
  constructor(message: string, status = 404) {
    super(message, 'NOT_FOUND', status);
    this.name = 'NotFoundError';
  }
}

/** NetworkError is a request or connection that got no answer: refused, reset or timed out. */
export class NetworkError extends PushFloError {
  constructor(message: string, code: ErrorCode = 'NETWORK_ERROR') {
    super(message, code, 0);
    this.name = 'NetworkError';
  }
}

/** errorFromWire builds the matching error class from a wire code and HTTP status. */
export function errorFromWire(message: string, code: string | undefined, status: number, channel?: string): PushFloError {
  const c = code || codeForStatus(status);
  switch (c) {
    case 'UNAUTHORIZED':
    case 'FORBIDDEN':
      return new AuthenticationError(message, c, status || (c === 'FORBIDDEN' ? 403 : 401), channel);
    case 'VALIDATION_ERROR':
    case 'PAYLOAD_TOO_LARGE':
      return new ValidationError(message, c, status || 400);
    case 'NOT_FOUND':
      return new NotFoundError(message, status || 404);
    default:
      return new PushFloError(message, c, status, channel);
  }
}

function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400: return 'VALIDATION_ERROR';
    case 401: return 'UNAUTHORIZED';
    case 403: return 'FORBIDDEN';
    case 404: return 'NOT_FOUND';
    case 409: return 'CONFLICT';
    case 413: return 'PAYLOAD_TOO_LARGE';
    case 429: return 'RATE_LIMITED';
    case 503: return 'UNAVAILABLE';
    default: return status >= 500 ? 'SERVER_ERROR' : 'CONNECTION_ERROR';
  }
}
