/** EventMap maps event names to the argument lists of their listeners. */
export type EventMap = { [event: string]: unknown[] };

/** EventHandler is a listener for an event whose arguments are `A`. */
export type EventHandler<A extends unknown[]> = (...args: A) => void;

/**
 * TypedEventEmitter is a small typed event emitter with the methods of
 * `@pushflodev/sdk`'s: `on`, `once` and `off` return the emitter so calls
 * chain. A listener that throws is reported on the console and does not
 * stop the others.
 */
export class TypedEventEmitter<E extends EventMap> {
  private readonly listeners = new Map<keyof E, Set<EventHandler<any[]>>>();

  /** on adds a listener. */
  on<K extends keyof E>(event: K, handler: EventHandler<E[K]>): this {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(handler as EventHandler<any[]>);
    return this;
  }

  /** once adds a listener that is removed before its first call. */
  once<K extends keyof E>(event: K, handler: EventHandler<E[K]>): this {
    const wrapper: EventHandler<E[K]> = (...args) => {
      this.off(event, wrapper);
      handler(...args);
    };
    return this.on(event, wrapper);
  }

  /** off removes a listener. */
  off<K extends keyof E>(event: K, handler: EventHandler<E[K]>): this {
    const set = this.listeners.get(event);
    if (set) {
      set.delete(handler as EventHandler<any[]>);
      if (set.size === 0) this.listeners.delete(event);
    }
    return this;
  }

  /** removeAllListeners removes the listeners of one event, or of every event when none is named. */
  removeAllListeners<K extends keyof E>(event?: K): this {
    if (event === undefined) this.listeners.clear();
    else this.listeners.delete(event);
    return this;
  }

  /** listenerCount is how many listeners an event has. */
  listenerCount<K extends keyof E>(event: K): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  /** eventNames lists the events that have listeners. */
  eventNames(): (keyof E)[] {
    return [...this.listeners.keys()];
  }

  /** emit calls the event's listeners in the order they were added and reports whether there were any. */
  protected emit<K extends keyof E>(event: K, ...args: E[K]): boolean {
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return false;
    for (const l of [...set]) safeCall(l, ...args);
    return true;
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
