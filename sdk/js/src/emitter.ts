/**
 * Emitter is a small typed event emitter. A listener that throws is
 * reported on the console and does not stop the others.
 */
export class Emitter<E extends { [K in keyof E]: (...args: any[]) => void }> {
  private listeners = new Map<keyof E, Set<(...args: any[]) => void>>();

  /** on adds a listener and returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: E[K]): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof E>(event: K, listener: E[K]): void {
    this.listeners.get(event)?.delete(listener);
  }

  emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const l of [...set]) safeCall(l, ...args);
  }

  clear(): void {
    this.listeners.clear();
  }
}

/** safeCall calls a user callback, reporting (not propagating) what it throws. */
export function safeCall<A extends unknown[]>(fn: ((...args: A) => void) | undefined, ...args: A): void {
  if (!fn) return;
  try {
    fn(...args);
  } catch (err) {
    console.error('pushflo: a callback threw:', err);
  }
}
