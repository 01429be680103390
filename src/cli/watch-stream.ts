/**
 * Consumes a live stream until it ends or Ctrl-C aborts `signal`. Stopping a watch with Ctrl-C is
 * the normal way to end it, so the cancellation that follows is not an error; anything else is.
 */
export async function watchStream<T>(stream: AsyncIterable<T>, signal: AbortSignal, onMessage: (message: T) => void): Promise<void> {
  // A Ctrl-C before the call starts would not cancel it: the client listens for the abort event only.
  if (signal.aborted) return;
  try {
    for await (const message of stream) onMessage(message);
  } catch (e) {
    if (signal.aborted) return;
    throw e;
  }
}
