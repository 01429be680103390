/**
 * Load for the chaos scenarios and the counting of what it got back: paced call loops, stream
 * readers that remember how a stream ended, and a tally of outcomes per kind of call.
 */
import { setTimeout as delay } from "node:timers/promises";
import { type ServiceError, status } from "@grpc/grpc-js";

/** The gRPC status name of a code (`UNAVAILABLE`). */
export function codeName(code: number | undefined): string {
  return code === undefined ? "NO_STATUS" : (status[code] ?? `CODE_${code}`);
}

/** The status code of whatever a failed call threw. */
export function codeOf(e: unknown): number | undefined {
  const code = (e as Partial<ServiceError> | undefined)?.code;
  return typeof code === "number" ? code : undefined;
}

/** Outcomes per kind of call: "ok", a status name, or "wrong" (answered, but not what the simulator holds). */
export class Tally {
  private readonly counts = new Map<string, Map<string, number>>();
  /** The first problems seen, described, for failure messages. */
  readonly problems: string[] = [];
  private static readonly KEEP_PROBLEMS = 20;

  add(kind: string, outcome: string, problem?: string): void {
    const byOutcome = this.counts.get(kind) ?? new Map<string, number>();
    byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1);
    this.counts.set(kind, byOutcome);
    if (problem !== undefined && this.problems.length < Tally.KEEP_PROBLEMS) this.problems.push(`${kind}: ${problem}`);
  }

  /** Calls of `kind` with `outcome`, or all of them. */
  count(kind: string, outcome?: string): number {
    const byOutcome = this.counts.get(kind);
    if (byOutcome === undefined) return 0;
    if (outcome !== undefined) return byOutcome.get(outcome) ?? 0;
    return [...byOutcome.values()].reduce((a, b) => a + b, 0);
  }

  /** Calls of `kind` whose outcome is none of `allowed`. */
  countOther(kind: string, allowed: readonly string[]): number {
    return [...(this.counts.get(kind) ?? new Map<string, number>())].filter(([o]) => !allowed.includes(o)).reduce((n, [, c]) => n + c, 0);
  }

  /** Every call over all kinds. */
  total(): number {
    return [...this.counts.keys()].reduce((n, k) => n + this.count(k), 0);
  }

  kinds(): string[] {
    return [...this.counts.keys()];
  }

  /** `kind: 120 ok + 3 UNAVAILABLE`. */
  describe(kind: string): string {
    const byOutcome = this.counts.get(kind);
    if (byOutcome === undefined) return `${kind}: none`;
    return `${kind}: ${[...byOutcome].sort((a, b) => b[1] - a[1]).map(([o, c]) => `${c} ${o}`).join(" + ")}`;
  }
}

/**
 * Calls `call` over and over until `signal` aborts, starting one at most every `paceMs` (never two
 * at once): the load's shape, not a synchronisation. Resolves with the number of calls made once
 * the last one settled; `call` must not throw.
 */
export async function repeatUntil(signal: AbortSignal, paceMs: number, call: (i: number) => Promise<void>): Promise<number> {
  let i = 0;
  while (!signal.aborted) {
    const started = performance.now();
    await call(i++);
    const rest = paceMs - (performance.now() - started);
    if (rest > 0) await delay(rest, undefined, { signal }).catch(() => undefined);
  }
  return i;
}

/** A server stream read to its end in the background: its messages as they come and how it ended. */
export interface StreamWatch<T> {
  readonly messages: { message: T; atMs: number }[];
  /** Resolves when the stream ends: undefined for OK, the error otherwise. Never rejects. */
  readonly ended: Promise<ServiceError | undefined>;
  /** True once it ended. */
  done(): boolean;
  /** Cancels it (the client's side). */
  cancel(): void;
  /** Resolves at the next message passing `test` (one already received does not count), or rejects after `timeoutMs`. */
  next(test: (m: T) => boolean, timeoutMs: number, what: string): Promise<T>;
}

export function watchStream<T>(open: (signal: AbortSignal) => AsyncIterable<T>): StreamWatch<T> {
  const abort = new AbortController();
  const messages: { message: T; atMs: number }[] = [];
  const waiters = new Set<(m: T) => void>();
  let finished = false;
  const ended = (async () => {
    try {
      for await (const message of open(abort.signal)) {
        messages.push({ message, atMs: Date.now() });
        for (const w of [...waiters]) w(message);
      }
      return undefined;
    } catch (e) {
      return e as ServiceError;
    } finally {
      finished = true;
    }
  })();
  return {
    messages,
    ended,
    done: () => finished,
    cancel: () => abort.abort(),
    next: (test, timeoutMs, what) =>
      new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no ${what} within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = (m: T) => {
          if (!test(m)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(m);
        };
        waiters.add(waiter);
        void ended.then((e) => {
          if (!waiters.has(waiter)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          reject(new Error(`the stream ended (${e === undefined ? "OK" : codeName(e.code)}) before ${what}`));
        });
      }),
  };
}

/** A deadline `ms` from now. */
export function deadlineIn(ms: number): { deadline: Date } {
  return { deadline: new Date(Date.now() + ms) };
}

/** Prints a scenario's summary line where the test run shows it. */
export function report(line: string): void {
  process.stdout.write(`${line}\n`);
}
