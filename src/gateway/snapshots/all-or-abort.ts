/**
 * Runs `fn` on every item at once and resolves with the results in item order. Each run gets a
 * signal that aborts when `parent` does (the client cancelled) or when any other run failed:
 * the answer is lost then, so the remaining upstream calls would only burn rate budget.
 */
export async function allOrAbort<I, R>(
  items: readonly I[],
  fn: (item: I, signal: AbortSignal) => Promise<R>,
  parent: AbortSignal,
): Promise<R[]> {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent.reason);
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener("abort", onParentAbort, { once: true });
  try {
    return await Promise.all(
      items.map((item) =>
        fn(item, controller.signal).catch((e: unknown) => {
          controller.abort(e);
          throw e;
        }),
      ),
    );
  } finally {
    parent.removeEventListener("abort", onParentAbort);
  }
}
