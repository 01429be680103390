import type { ProblemLine } from "../../shared/logger.js";

/** Longest message or field text kept: the status page shows lines, not stack dumps. */
const MAX_TEXT = 500;

/** The newest warn and error log lines, at most `capacity` of them, for the status page. */
export class RecentProblems {
  private readonly lines: ProblemLine[] = [];
  private next = 0;
  private total = 0;

  constructor(private readonly capacity = 20) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new RangeError("capacity must be a positive integer");
  }

  add(line: ProblemLine): void {
    const kept: ProblemLine = { ...line, message: clip(line.message), fields: clipFields(line.fields) };
    if (this.lines.length < this.capacity) this.lines.push(kept);
    else this.lines[this.next] = kept;
    this.next = (this.next + 1) % this.capacity;
    this.total++;
  }

  /** Newest first. */
  list(): ProblemLine[] {
    const oldestFirst = this.lines.length < this.capacity ? this.lines : [...this.lines.slice(this.next), ...this.lines.slice(0, this.next)];
    return [...oldestFirst].reverse();
  }

  /** Lines added since start, including those no longer held. */
  get count(): number {
    return this.total;
  }
}

function clip(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT)}…`;
}

/** Fields as short strings: a stack trace or a whole reply body would crowd out the rest. */
function clipFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === "string") out[k] = clip(v);
    else if (typeof v === "number" || typeof v === "boolean" || v === null) out[k] = v;
    else if (typeof v === "bigint") out[k] = v.toString();
    else out[k] = clip(safeJson(v));
  }
  return out;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x)) ?? String(v);
  } catch {
    return String(v);
  }
}
