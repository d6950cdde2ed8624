/**
 * The browser entry point: PushFloClient subscribes to channels over
 * WebSocket (or SSE where WebSocket is blocked) and resumes after the last
 * message ID on every reconnect. Publishing lives in `@pushflo/sdk/server`,
 * React bindings in `@pushflo/sdk/react`.
 */
export { PushFloClient } from './client.js';
export { AuthenticationError, NetworkError, NotFoundError, PushFloError, ValidationError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { compareIds } from './ids.js';
export type {
  ClientEvents,
  ClientOptions,
  ConnectionState,
  EventSourceConstructor,
  FetchFunction,
  Gap,
  Message,
  Subscription,
  SubscriptionOptions,
  TransportKind,
  WebSocketConstructor,
} from './types.js';
