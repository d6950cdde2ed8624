/**
 * The browser entry point, with the exports of `@pushflodev/sdk`:
 * PushFloClient subscribes to channels over WebSocket (or SSE where
 * WebSocket is blocked) and resumes after the last message ID on every
 * reconnect. Publishing lives in `@pushflo/sdk/server`, React bindings in
 * `@pushflo/sdk/react`.
 */
export { PushFloClient } from './client.js';
export { AuthenticationError, ConnectionError, ERROR_CODES, NetworkError, NotFoundError, PushFloError, ValidationError } from './errors.js';
export type { ErrorCode, PushFloErrorOptions } from './errors.js';
export { isValidChannelSlug, toChannelSlug, validateChannelSlug, MAX_SLUG_LENGTH, MIN_SLUG_LENGTH } from './slug.js';
export type { SlugValidationResult } from './slug.js';
export { compareIds } from './ids.js';
export type { EventHandler, EventMap } from './emitter.js';
export type {
  ClientEvents,
  ClientOptions,
  ConnectionInfo,
  ConnectionState,
  EventSourceConstructor,
  FetchFunction,
  Gap,
  Message,
  ReconnectInfo,
  SubscribedInfo,
  Subscription,
  SubscriptionOptions,
  TokenSource,
  TransportKind,
  WebSocketConstructor,
} from './types.js';
export type {
  Channel,
  ChannelInput,
  ChannelList,
  ChannelUpdateInput,
  ConnectionToken,
  ListChannelsOptions,
  MessageHistory,
  MessageHistoryOptions,
  MessagesSince,
  Pagination,
  PublishOptions,
  PublishResult,
  ServerOptions,
  TokenOptions,
} from './server.js';
