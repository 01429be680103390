/**
 * Arithmetic on half-open time intervals `[start, end)` in UTC ms. A list of intervals is
 * "normal" when sorted, non-empty, and neither overlapping nor touching: the form the coverage
 * index keeps, so that equal coverage always has one representation.
 */
export interface Interval {
  readonly start: number;
  readonly end: number;
}

/** Sorts, drops empty intervals and merges overlapping or adjacent ones. */
export function normalize(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals.filter((i) => i.end > i.start).sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && i.start <= last.end) {
      if (i.end > last.end) out[out.length - 1] = { start: last.start, end: i.end };
    } else {
      out.push({ start: i.start, end: i.end });
    }
  }
  return out;
}

/** Union of two interval lists, normal. */
export function union(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  return normalize([...a, ...b]);
}

/** The parts of `range` that `covered` (normal) does not cover, ascending. */
export function subtract(range: Interval, covered: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let cursor = range.start;
  for (const c of covered) {
    if (c.end <= cursor) continue;
    if (c.start >= range.end) break;
    if (c.start > cursor) out.push({ start: cursor, end: c.start });
    cursor = Math.max(cursor, c.end);
    if (cursor >= range.end) break;
  }
  if (cursor < range.end) out.push({ start: cursor, end: range.end });
  return out;
}

/** The parts of `range` that `covered` (normal) covers, ascending. */
export function intersect(range: Interval, covered: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const c of covered) {
    const start = Math.max(range.start, c.start);
    const end = Math.min(range.end, c.end);
    if (end > start) out.push({ start, end });
  }
  return out;
}

/** True when `[start, end)` lies inside one interval of `covered` (normal). */
export function containsRange(covered: readonly Interval[], start: number, end: number): boolean {
  return covered.some((c) => c.start <= start && end <= c.end);
}
