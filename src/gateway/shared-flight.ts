/**
 * Single flight with shared cancellation: concurrent callers asking for the same key share one
 * execution of the work. The work gets its own signal, aborted only when every caller that
 * joined it has aborted: cancelling one request never cancels work another still waits for,
 * and work nobody waits for any more stops.
 */
export class SharedFlights<T> {
  private readonly flights = new Map<string, { promise: Promise<T>; waiters: number; controller: AbortController }>();

  /** Calls in flight right now (for tests and stats). */
  get size(): number {
    return this.flights.size;
  }

  /** The shared result of `work` for `key`; `joined` is true when another caller started it. */
  run(key: string, signal: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): { promise: Promise<T>; joined: boolean } {
    let flight = this.flights.get(key);
    const joined = flight !== undefined;
    if (!flight) {
      const controller = new AbortController();
      const promise = work(controller.signal).finally(() => this.flights.delete(key));
      // Every caller may have gone before it settles; its failure then concerns nobody.
      promise.catch(() => undefined);
      flight = { promise, waiters: 0, controller };
      this.flights.set(key, flight);
    }
    const f = flight;
    f.waiters++;
    if (!signal) return { promise: f.promise, joined };
    return {
      joined,
      promise: new Promise<T>((resolve, reject) => {
        const onAbort = () => {
          if (--f.waiters === 0) f.controller.abort(signal.reason);
          reject(signal.reason as Error);
        };
        if (signal.aborted) return onAbort();
        signal.addEventListener("abort", onAbort, { once: true });
        f.promise.then(
          (v) => {
            signal.removeEventListener("abort", onAbort);
            resolve(v);
          },
          (e: unknown) => {
            signal.removeEventListener("abort", onAbort);
            reject(e as Error);
          },
        );
      }),
    };
  }
}
