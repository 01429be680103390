/**
 * The V8 heap of another Node process, through its inspector (the process runs with
 * `--inspect=127.0.0.1:0`): a full garbage collection, then the heap in use. Unlike RSS, which V8
 * keeps high after a burst of allocation, this is what the process still holds on to, so a leak
 * shows and a grown-but-free heap does not.
 */
import WebSocket from "ws";

/** What an inspected process prints on stderr: `Debugger listening on ws://127.0.0.1:PORT/ID`. */
export function inspectorUrl(line: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1];
}

export interface HeapProbe {
  /** Heap in use after full garbage collections, MiB. */
  heapAfterGcMiB(): Promise<number>;
  close(): void;
}

export async function connectHeapProbe(url: string): Promise<HeapProbe> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (result: unknown) => void; reject: (e: Error) => void }>();
  ws.on("message", (data: WebSocket.RawData) => {
    const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
    if (message.id === undefined) return; // an event
    const p = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) p?.reject(new Error(message.error.message));
    else p?.resolve(message.result);
  });
  const send = (method: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method }));
    });
  return {
    async heapAfterGcMiB() {
      // Twice: the first collection may leave work (finalizers, weak callbacks) for the second.
      await send("HeapProfiler.collectGarbage");
      await send("HeapProfiler.collectGarbage");
      const { usedSize } = (await send("Runtime.getHeapUsage")) as { usedSize: number };
      return usedSize / (1024 * 1024);
    },
    close: () => ws.close(),
  };
}
