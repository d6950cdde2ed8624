// waitFor polls `check` until it returns a truthy value and returns that
// value, or throws after `timeout` ms naming what it waited for. Tests wait
// only through this (or other bounded waits), never on a bare sleep.
export async function waitFor(check, what, timeout = 10000) {
  const deadline = Date.now() + timeout;
  let lastErr;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${lastErr ? ` (last error: ${lastErr.message})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

// deferrer returns a function that registers cleanups for test `t`; they run
// last-registered first (node:test runs `t.after` hooks first-registered first),
// so a resource is released before what it depends on.
export function deferrer(t) {
  const stack = [];
  t.after(async () => {
    while (stack.length) {
      const fn = stack.pop();
      try {
        await fn();
      } catch (err) {
        console.error('cleanup failed:', err);
      }
    }
  });
  return (fn) => stack.push(fn);
}
