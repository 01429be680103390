/**
 * One REST fetch shared by every trade stream that needs the same thing at the same time: after
 * an upstream reconnect each subscriber of a market recovers from the same last trade, and a
 * thousand subscribers must not cost a thousand backfills of one market.
 */

interface InFlight<T> {
  readonly promise: Promise<T>;
  readonly controller: AbortController;
  joined: number;
}

export class SharedFetches<T> {
  private readonly inFlight = new Map<string, InFlight<T>>();

  /** Fetches in flight (tests, diagnostics). */
  get size(): number {
    return this.inFlight.size;
  }

  /**
   * Joins the fetch running under `key`, or starts `fetch`. The caller's `signal` only takes the
   * caller out (its promise rejects with the signal's reason); the fetch itself is aborted once
   * every caller has left. Callers must use a key that identifies the whole request.
   */
  run(key: string, signal: AbortSignal, fetch: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (signal.aborted) return Promise.reject(signal.reason);
    let entry = this.inFlight.get(key);
    if (entry === undefined) {
      const controller = new AbortController();
      const promise = fetch(controller.signal);
      const created: InFlight<T> = { promise, controller, joined: 0 };
      entry = created;
      this.inFlight.set(key, created);
      const forget = (): void => {
        if (this.inFlight.get(key) === created) this.inFlight.delete(key);
      };
      promise.then(forget, forget);
    }
    const joined = entry;
    joined.joined++;
    return new Promise<T>((resolve, reject) => {
      let left = false;
      const leave = (): void => {
        if (left) return;
        left = true;
        signal.removeEventListener("abort", onAbort);
        if (--joined.joined > 0) return;
        // Nobody waits any more: a later caller must start afresh, not join an aborted fetch.
        if (this.inFlight.get(key) === joined) this.inFlight.delete(key);
        joined.controller.abort();
      };
      const onAbort = (): void => {
        leave();
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      joined.promise.then(
        (v) => {
          leave();
          resolve(v);
        },
        (e: unknown) => {
          leave();
          reject(e);
        },
      );
    });
  }
}
