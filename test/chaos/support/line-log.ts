/**
 * The lines a child process writes to one of its outputs, kept, with a way to wait for one that
 * has not come yet: the chaos scenarios synchronise on the gateway's own log lines (a daemon
 * restarted, listening again) instead of sleeping.
 */
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

interface Waiter {
  test: (fields: Record<string, unknown>) => boolean;
  resolve: (fields: Record<string, unknown>) => void;
  reject: (e: Error) => void;
  what: string;
}

/** A JSON log line's fields; {} for any other line. */
export function jsonFields(line: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export class JsonLineLog {
  private readonly lines: Record<string, unknown>[] = [];
  private readonly raw: string[] = [];
  private readonly waiters = new Set<Waiter>();
  private closed = false;
  /** Raw lines kept for failure messages; older ones are dropped. */
  private static readonly KEEP_RAW = 400;

  constructor(input: Readable) {
    const lines = createInterface({ input });
    lines.on("line", (line) => {
      this.raw.push(line);
      if (this.raw.length > JsonLineLog.KEEP_RAW) this.raw.shift();
      const fields = jsonFields(line);
      this.lines.push(fields);
      for (const w of this.waiters) {
        if (!w.test(fields)) continue;
        this.waiters.delete(w);
        w.resolve(fields);
      }
    });
    lines.on("close", () => {
      this.closed = true;
      for (const w of this.waiters) w.reject(new Error(`output ended before ${w.what}:\n${this.tail()}`));
      this.waiters.clear();
    });
  }

  /** Every JSON line seen so far whose fields pass `test`. */
  all(test: (fields: Record<string, unknown>) => boolean): Record<string, unknown>[] {
    return this.lines.filter(test);
  }

  /** The next line from now on whose fields pass `test` (lines already seen do not count). */
  next(what: string, test: (fields: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>> {
    if (this.closed) return Promise.reject(new Error(`output ended before ${what}:\n${this.tail()}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no ${what} within ${timeoutMs} ms:\n${this.tail()}`));
      }, timeoutMs);
      const waiter: Waiter = {
        test,
        what,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.add(waiter);
    });
  }

  /** The first line still kept (the last 400) that passes `test`, JSON or not. */
  findRaw(test: (line: string) => boolean): string | undefined {
    return this.raw.find(test);
  }

  /** The last lines, for failure messages. */
  tail(n = 40): string {
    return this.raw.slice(-n).join("\n");
  }
}
