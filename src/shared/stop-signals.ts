import type { Logger } from "./logger.js";

/**
 * SIGTERM/SIGINT handling for a process's main: the first signal runs `stop` and exits 0, a second
 * one gives up waiting, runs `force` and exits 1. `isStopping` lets start-up code see that a signal
 * came first.
 */
export function onStopSignals(log: Logger, handlers: { stop: () => Promise<void>; force: () => void }): { isStopping: () => boolean } {
  let stopping = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (stopping) {
        log.warn("second signal: exiting now", { signal });
        handlers.force();
        process.exit(1);
      }
      stopping = true;
      log.info("stopping", { signal });
      void handlers.stop().then(() => process.exit(0));
    });
  }
  return { isStopping: () => stopping };
}
