/**
 * backoffDelay returns how many milliseconds to wait before reconnect
 * attempt number `attempt` (1 for the first retry): exponential from
 * `baseMs`, capped at `maxMs`, with "equal jitter" so that a crowd of clients
 * dropped at once does not come back at once. The result lies in
 * [d/2, d] where d = min(maxMs, baseMs * 2^(attempt-1)).
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.max(0, attempt - 1);
  const d = Math.min(maxMs, baseMs * Math.pow(2, Math.min(exp, 30)));
  const half = d / 2;
  return Math.round(half + random() * half);
}
