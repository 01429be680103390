/**
 * A promise known to be resolved already: `untilAborted` hands it back as it is, without an abort
 * listener (a stream's send returns it when the transport took the message at once, which is
 * nearly always; listening per message cost more than the send).
 */
export const SETTLED: Promise<void> = Promise.resolve();

/**
 * `promise`, or a rejection as soon as `signal` aborts: a wait on something that may never settle
 * (a send stuck behind a client that stopped reading) must not keep a caller, or a shutting-down
 * server, waiting. The abort listener is removed once `promise` settles.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  if (promise === (SETTLED as Promise<unknown>)) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
