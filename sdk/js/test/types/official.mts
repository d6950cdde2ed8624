// Compiled (not run) by `npm run test:types`: every name, shape and call of
// the documented API of the hosted SDK, @pushflodev/sdk v1.0.8 — its README
// and the exports of its three entry points (src/index.ts, src/server.ts,
// src/react.ts) — written the way an app using that SDK writes them. The
// only change an app makes to move to pushflo is the import path, so this
// file compiling against sdk/js is the type-level half of "drop-in". (It was
// also checked to compile against the official v1.0.8 sources themselves,
// with the import paths mapped to them, so it asks for nothing they lack.)
import {
  PushFloClient,
  PushFloError,
  ConnectionError,
  AuthenticationError,
  NetworkError,
  ValidationError,
  isValidChannelSlug,
  toChannelSlug,
  validateChannelSlug,
  MAX_SLUG_LENGTH,
  MIN_SLUG_LENGTH,
  type SlugValidationResult,
  type ConnectionState,
  type ClientOptions,
  type ConnectionInfo,
  type Channel,
  type ChannelInput,
  type ChannelUpdateInput,
  type ListChannelsOptions,
  type Message,
  type PublishOptions,
  type PublishResult,
  type MessageHistoryOptions,
  type Subscription,
  type SubscriptionOptions,
  type Pagination,
} from '@pushflo/sdk';
import * as server from '@pushflo/sdk/server';
import type { ServerOptions } from '@pushflo/sdk/server';
import * as react from '@pushflo/sdk/react';
import type {
  PushFloProviderProps,
  PushFloContextValue,
  UsePushFloResult,
  UseChannelOptions,
  UseChannelResult,
} from '@pushflo/sdk/react';

declare function show(...args: unknown[]): void;

// ---- Browser client: options, with their documented names and types ----
const options: ClientOptions = {
  publishKey: 'pub_xxxxxxxxxxxxx',
  baseUrl: 'https://api.pushflo.dev',
  autoConnect: false,
  debug: false,
  connectionTimeout: 30000,
  heartbeatInterval: 25000,
  autoReconnect: true,
  maxReconnectAttempts: 0,
  reconnectDelay: 1000,
  maxReconnectDelay: 30000,
};
export async function browserClient(): Promise<void> {
  const client = new PushFloClient(options);
  await client.connect();
  const subscription: Subscription = client.subscribe('notifications', {
    onMessage: (message) => {
      show(message.content, message.eventType, new Date(message.timestamp));
    },
    onError: (error: Error) => show(error.message),
    onSubscribed: () => show('subscribed'),
    onUnsubscribed: () => show('unsubscribed'),
  });
  const channelName: string = subscription.channel;
  show(channelName);
  subscription.unsubscribe();
  client.unsubscribe('notifications');
  client.disconnect();
  client.destroy();

  // Connection state: the four states, switched over exhaustively.
  const off = client.onConnectionChange((state: ConnectionState) => {
    switch (state) {
      case 'disconnected':
      case 'connecting':
      case 'connected':
      case 'error':
        break;
      default: {
        const never: never = state;
        show(never);
      }
    }
  });
  off();
  const st: ConnectionState = client.connectionState;
  const id: string | null = client.clientId;
  const subscribed: boolean = client.isSubscribed('notifications');
  const channels: string[] = client.getSubscribedChannels();
  show(st, id, subscribed, channels);

  // Events: typed arguments, and on/once/off chain.
  const onMessage = (message: Message) => show(message.channel, message.content);
  client
    .on('message', onMessage)
    .on('error', (error: Error) => show(error))
    .on('connected', (info: ConnectionInfo) => {
      const cid: string = info.clientId;
      const ts: number = info.timestamp;
      show(cid, ts);
    })
    .on('disconnected', (reason?: string) => show(reason))
    .once('connected', (info) => show(info.clientId))
    .off('message', onMessage);
  const n: number = client.listenerCount('error');
  const names = client.eventNames();
  client.removeAllListeners('error').removeAllListeners();
  show(n, names);
}

// A SubscriptionOptions value called the way the hosted SDK calls it.
const subOpts: SubscriptionOptions = { onSubscribed: () => {}, onUnsubscribed: () => {}, onError: () => {}, onMessage: () => {} };
subOpts.onSubscribed?.();
subOpts.onUnsubscribed?.();
subOpts.onError?.(new Error('x'));

// A hand-built Message (tests, fixtures): no field beyond the documented ones.
const built: Message = { id: 'm1', channel: 'c', eventType: 'message', clientId: '', content: { a: 1 }, timestamp: 1 };
subOpts.onMessage?.(built);

// ---- Errors ----
export async function errorHandling(client: PushFloClient): Promise<void> {
  try {
    await client.connect();
  } catch (error) {
    if (error instanceof AuthenticationError) {
      show(error.message);
    } else if (error instanceof ConnectionError) {
      if (error.retryable) show('Will auto-retry...');
    } else if (error instanceof PushFloError) {
      show(error.code, error.message);
    } else {
      throw error;
    }
  }
  const base = new PushFloError('m', 'CODE', { retryable: true, cause: new Error('c') });
  const retryable: boolean = base.retryable;
  const cause: Error | undefined = base.cause;
  const json: Record<string, unknown> = base.toJSON();
  const text: string = base.toString();
  show(retryable, cause, json, text);
  const ce: ConnectionError[] = [
    new ConnectionError('m'),
    new ConnectionError('m', 'CONNECTION_FAILED', { retryable: false, cause: new Error() }),
    ConnectionError.timeout(30000),
    ConnectionError.closed('bye'),
    ConnectionError.closed(),
    ConnectionError.failed('reason', new Error('x')),
    ConnectionError.failed(),
  ];
  const ae: AuthenticationError[] = [
    new AuthenticationError('m'),
    new AuthenticationError('m', 'UNAUTHORIZED', { cause: new Error() }),
    AuthenticationError.invalidKey('secret'),
    AuthenticationError.invalidKey(),
    AuthenticationError.unauthorized('why'),
    AuthenticationError.forbidden('publish'),
  ];
  const ne: NetworkError[] = [
    new NetworkError('m'),
    new NetworkError('m', 'NETWORK_ERROR', { retryable: true, cause: new Error(), statusCode: 500 }),
    NetworkError.fromFetch(new TypeError('fetch failed')),
    NetworkError.timeout(30000),
    NetworkError.fromStatus(404),
    NetworkError.fromStatus(503, 'down'),
  ];
  const status: number | undefined = ne[4]!.statusCode;
  const ve: ValidationError[] = [new ValidationError('m'), new ValidationError('m', 'slug'), ValidationError.invalidChannelSlug('My:Channel'), ValidationError.required('name')];
  const field: string | undefined = ve[1]!.field;
  show(ce, ae, status, field);
}

// ---- Channel slug utilities ----
const ok: boolean = isValidChannelSlug('my-channel');
const slug: string = toChannelSlug('user:123:messages');
const result: SlugValidationResult = validateChannelSlug('My:Channel');
const detail: [boolean, string | undefined, string | undefined] = [result.valid, result.error, result.suggestion];
const limits: number = MAX_SLUG_LENGTH + MIN_SLUG_LENGTH;
show(ok, slug, detail, limits);

// ---- Server client ----
export async function serverClient(): Promise<void> {
  const serverOptions: ServerOptions = {
    secretKey: 'sec_xxxxxxxxxxxxx',
    baseUrl: 'https://api.pushflo.dev',
    consoleUrl: 'https://console.pushflo.dev',
    timeout: 30000,
    debug: false,
    retryAttempts: 3,
  };
  const pushflo = new server.PushFloServer(serverOptions);
  new server.PushFloServer({ secretKey: 'sec_xxx' });

  const result: PublishResult = await pushflo.publish('notifications', { title: 'New Order', orderId: '12345', amount: 99.99 });
  show(result.id, result.channelSlug, result.eventType, result.clientId, result.delivered, result.createdAt);
  const publishOptions: PublishOptions = { eventType: 'order.shipped' };
  await pushflo.publish('orders', { orderId: '123', status: 'shipped' }, publishOptions);

  const listOptions: ListChannelsOptions = { page: 1, pageSize: 25 };
  const { channels, pagination } = await pushflo.listChannels(listOptions);
  const list: Channel[] = channels;
  const page: Pagination = pagination;
  show(list, page.page, page.pageSize, page.total, page.totalPages);

  const channel: Channel = await pushflo.getChannel('notifications');
  const fields: [string, string, string, string | null, boolean, Record<string, unknown> | null, number, string, string] = [
    channel.id,
    channel.name,
    channel.slug,
    channel.description,
    channel.isPrivate,
    channel.metadata,
    channel.messageCount,
    channel.createdAt,
    channel.updatedAt,
  ];
  show(fields);
  const input: ChannelInput = { name: 'Order Updates', slug: 'order-updates', description: 'Real-time order status updates', isPrivate: false, metadata: {} };
  const created: Channel = await pushflo.createChannel(input);
  const update: ChannelUpdateInput = { description: null, metadata: null, name: 'x', isPrivate: true };
  const updated: Channel = await pushflo.updateChannel(created.slug, update);
  const gone: void = await pushflo.deleteChannel(updated.slug);
  show(gone);

  const historyOptions: MessageHistoryOptions = { page: 1, pageSize: 50, eventType: 'x', after: 0, before: Date.now() };
  const { messages, pagination: hp } = await pushflo.getMessageHistory('notifications', historyOptions);
  messages.forEach((msg: Message) => show(`[${msg.eventType}] ${JSON.stringify(msg.content)}`));
  show(`Page ${hp.page} of ${hp.totalPages}`);

  // The server entry's own copies of the errors and slug helpers.
  const errs = [server.PushFloError, server.AuthenticationError, server.NetworkError, server.ValidationError];
  const s2: string = server.toChannelSlug('org_abc123-brand_xyz789-notifications');
  const v2: boolean = server.isValidChannelSlug(s2);
  const r2: server.SlugValidationResult = server.validateChannelSlug(s2);
  const n2: number = server.MAX_SLUG_LENGTH + server.MIN_SLUG_LENGTH;
  type ServerTypes = [server.Channel, server.ChannelInput, server.ChannelUpdateInput, server.ListChannelsOptions, server.Message, server.PublishOptions, server.PublishResult, server.MessageHistoryOptions, server.Pagination, server.ServerOptions];
  const none: ServerTypes | undefined = undefined;
  show(errs, v2, r2, n2, none);
}

// ---- React ----
const providerProps: PushFloProviderProps = {
  publishKey: 'pub_xxxxxxxxxxxxx',
  baseUrl: undefined as string | undefined,
  autoConnect: true,
  debug: false,
  children: null,
};
export const tree = react.PushFloProvider(providerProps);

export function Dashboard(): unknown {
  const r: UsePushFloResult = react.usePushFlo();
  const { connectionState, isConnected, isConnecting, connect, disconnect, subscribe, unsubscribe } = r;
  const p: Promise<void> = connect();
  disconnect();
  const s: Subscription | null = subscribe('notifications', { onMessage: () => {} });
  unsubscribe('notifications');
  return [connectionState, isConnected, isConnecting, p, s];
}

export function NotificationBell(): unknown {
  const channelOptions: UseChannelOptions = { onMessage: (msg: Message) => show(msg), onError: (e: Error) => show(e), maxMessages: 100 };
  const r: UseChannelResult = react.useChannel('notifications', channelOptions);
  const { messages, lastMessage, clearMessages, isSubscribed, connectionState } = r;
  const last: Message | null = lastMessage;
  clearMessages();
  return [messages.length, last && last.content.title, isSubscribed, connectionState === 'connecting'];
}

export function ContextUser(): unknown {
  const ctx: PushFloContextValue = react.usePushFloContext();
  const c: PushFloClient | null = ctx.client;
  const sub: Subscription | null = ctx.subscribe('x');
  ctx.unsubscribe('x');
  return [ctx.connectionState, c, sub, ctx.connect, ctx.disconnect];
}

// The react entry's own copies of the errors and common types.
const reactErrors = [react.PushFloError, react.ConnectionError, react.AuthenticationError, react.NetworkError, react.ValidationError];
type ReactTypes = [react.ConnectionState, react.Message, react.Subscription, react.SubscriptionOptions];
const reactNone: ReactTypes | undefined = undefined;
show(reactErrors, reactNone);
