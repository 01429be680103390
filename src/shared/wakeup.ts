/** Longest delay Node's timers honour; longer ones fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * One consumer waiting for a producer's next change: the consumer `wait`s, the producer calls
 * `wake`. Waiting ends on the wake, on `signal` aborting, or after `timeoutMs`.
 *
 * The abort listener stays on the signal across waits (one per Wakeup, not one per wait): a
 * stream waits once per message, and adding and removing an EventTarget listener cost more than
 * the rest of a message's fan-out together. Consumers wait with their own (call-long) signal.
 */
export class Wakeup {
  private pending: (() => void) | undefined;
  private listeningTo: AbortSignal | undefined;
  private readonly onAbort = (): void => {
    this.listeningTo = undefined;
    this.wake();
  };

  wake(): void {
    this.pending?.();
  }

  wait(signal: AbortSignal, timeoutMs = Number.POSITIVE_INFINITY): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    if (this.listeningTo !== signal) {
      this.listeningTo?.removeEventListener("abort", this.onAbort);
      signal.addEventListener("abort", this.onAbort, { once: true });
      this.listeningTo = signal;
    }
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = (): void => {
        this.pending = undefined;
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      };
      this.pending = done;
      if (Number.isFinite(timeoutMs)) timer = setTimeout(done, Math.min(Math.max(0, timeoutMs), MAX_TIMER_MS));
    });
  }
}
