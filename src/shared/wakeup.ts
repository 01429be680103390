/** Longest delay Node's timers honour; longer ones fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * One consumer waiting for a producer's next change: the consumer `wait`s, the producer calls
 * `wake`. Waiting ends on the wake, on `signal` aborting, or after `timeoutMs`; it cleans up its
 * listener and timer whichever comes first, so a long-lived signal collects nothing.
 */
export class Wakeup {
  private pending: (() => void) | undefined;

  wake(): void {
    this.pending?.();
  }

  wait(signal: AbortSignal, timeoutMs = Number.POSITIVE_INFINITY): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = (): void => {
        this.pending = undefined;
        if (timer !== undefined) clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.pending = done;
      if (Number.isFinite(timeoutMs)) timer = setTimeout(done, Math.min(Math.max(0, timeoutMs), MAX_TIMER_MS));
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
