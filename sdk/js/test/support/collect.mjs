// collect subscribes `client` to `channel` and records what the test checks:
// every message delivered (`got`, in delivery order) and how many times the
// server confirmed the subscription (`subscribed()`, which grows on each
// re-subscribe after a reconnect). `sub` is the Subscription.
export function collect(client, channel) {
  const got = [];
  let confirmed = 0;
  const sub = client.subscribe(channel, { onMessage: (m) => got.push(m), onSubscribed: () => confirmed++ });
  return { got, sub, subscribed: () => confirmed };
}
