// Compiled (not run) by `npm run test:types`: an app's view of the published
// type declarations, resolved through package.json "exports" the way Node
// and bundlers resolve them. A wrong export map or a missing type fails here.
import { PushFloClient, AuthenticationError, type ConnectionState, type Message } from '@pushflo/sdk';
import { PushFloServer, type PublishResult } from '@pushflo/sdk/server';
import { PushFloProvider, useChannel, usePushFlo, type UseChannelResult } from '@pushflo/sdk/react';

interface Order {
  orderId: string;
  status: string;
}

const client = new PushFloClient({ publishKey: 'pub_x', baseUrl: 'http://localhost:8080', transports: ['websocket', 'sse'] });
const sub = client.subscribe<Order>('orders:user-123', {
  onMessage: (m: Message<Order>) => {
    const s: string = m.content.status;
    void s;
  },
  onError: (e) => void e.message,
  onSubscribed: (info) => void info?.recovered,
  onGap: (g) => void g.after,
});
sub.unsubscribe();
const off = client.onConnectionChange((s: ConnectionState) => void s);
off();
client.on('gap', (g) => void g.before).on('reconnecting', ({ attempt, delay }) => void (attempt + delay));
const reconnecting: boolean = client.isReconnecting;
void reconnecting;
const tokenClient = new PushFloClient({
  publishKey: '',
  baseUrl: 'http://localhost:8080',
  getToken: async () => 'token',
  tokenRefreshMargin: 30000,
  maxRetries: Infinity,
  connectWaitsForRetries: true,
});
void tokenClient;
void (new AuthenticationError('x') instanceof Error);

const server = new PushFloServer({ secretKey: 'sec_x', baseUrl: 'http://localhost:8080', baseUrls: ['http://localhost:8081'], autoIdempotencyKey: true });
const r: Promise<PublishResult> = server.publish('orders:user-123', { status: 'shipped' }, { eventType: 'order-updated' });
void r;

void PushFloProvider;
void usePushFlo;
export function useOrders(): UseChannelResult<Order> {
  return useChannel<Order>('orders:user-123', { maxMessages: 10 });
}
