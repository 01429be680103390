import { UpstreamAbortError, UpstreamBlockedError, UpstreamUnavailableError } from "./upstream-errors.js";

/**
 * Keeps the client inside Upbit's per-IP, per-group limits (10 requests per fixed 1-s window for
 * every quotation group) and reacts to what Upbit says: `Remaining-Req: sec=0` that our own
 * requests do not explain pauses the group, 429 backs the whole group off, 418 stops it for the
 * block time.
 *
 * Accounting: a group has `limit` slots. A request takes a slot when granted and gives it back
 * `1000 + windowSlackMs` ms after it completed (reply, failure or abort). Upbit receives a
 * request somewhere between our grant and its completion, so two requests that used the same
 * slot arrive at least a full second apart: no 1-s interval, whatever the phase of Upbit's
 * aligned windows and however long a request queued in the connection pool, sees more than
 * `limit` of ours. The price is throughput: each slot cycles once per (latency + 1 s + slack).
 * Every permit must therefore be released (`release`, or one of the `on*` reports).
 *
 * Priorities: waiters are served CRITICAL, HIGH, NORMAL, LOW, FIFO within one priority. While
 * a group has CRITICAL callers (one seen within `criticalReserveIdleMs`), only they may use the
 * last `criticalReserve` requests of a window, so a burst of lower-priority work always leaves
 * room for them; a group without CRITICAL traffic lends that share to the others, so a backtest
 * can use the whole budget, and the first CRITICAL caller after a quiet spell waits at most for
 * the next slot to free (about 1/limit s at full load) and arms the reserve again. LOW
 * additionally leaves `lowHeadroom` requests to HIGH/NORMAL and, being last in line, only goes
 * when nobody else waits; a LOW caller waiting `lowAgingMs` queues as NORMAL.
 */

export type Priority = "CRITICAL" | "HIGH" | "NORMAL" | "LOW";

/** Highest first: the order in which waiters are served. */
export const PRIORITIES: readonly Priority[] = ["CRITICAL", "HIGH", "NORMAL", "LOW"];

/** Runs `callback` after `delayMs`; returns a function that cancels it. */
export type ScheduleFn = (callback: () => void, delayMs: number) => () => void;

export const WINDOW_MS = 1_000;

export interface RateLimiterOptions {
  /** Requests per 1-s window for every group. Default 10 (Upbit's quotation limit). */
  limitPerSecond?: number;
  /** Per-group overrides of `limitPerSecond`, e.g. `{ candles: 5 }`. Default none. */
  groupLimits?: Readonly<Record<string, number>>;
  /**
   * Requests per window nobody uses, for other clients behind the same IP or a server that counts
   * a little differently. Default 0.
   */
  safetyMargin?: number;
  /** Added to the 1 s a slot stays taken after its request completed: margin for clock steps and timer rounding. Default 20 ms. */
  windowSlackMs?: number;
  /** Requests of each window only CRITICAL callers may use. Default 2. */
  criticalReserve?: number;
  /** The reserve is held while a CRITICAL caller was seen this recently, and lent out after. Default 60,000 ms. */
  criticalReserveIdleMs?: number;
  /** Further requests of each window LOW callers leave to HIGH and NORMAL. Default 0. */
  lowHeadroom?: number;
  /** A LOW caller that waited this long queues as NORMAL, so LOW never starves. Default 10,000 ms. */
  lowAgingMs?: number;
  /** First pause of a group after a 429; doubles with each further 429 (plus up to 50% jitter). Default 1,000 ms. */
  rateLimitBackoffBaseMs?: number;
  /** Longest pause after 429s (before jitter). Default 30,000 ms. */
  rateLimitBackoffMaxMs?: number;
  /** Block assumed after a 418 whose reply says no duration; doubles with each repeat. Default 60,000 ms. */
  blockDefaultMs?: number;
  /** Longest assumed block. Default 600,000 ms. */
  blockMaxMs?: number;
  /** Clock, epoch ms. Default `Date.now`. */
  now?: () => number;
  /** Timer. Default `setTimeout`. */
  schedule?: ScheduleFn;
  /** Jitter source in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/**
 * A granted request slot. Give it back with `release` (or an `on*` report, which releases it)
 * when the request has completed, whatever the outcome.
 */
export interface RatePermit {
  readonly group: string;
  /** When the slot was granted (the request is sent right after). */
  readonly grantedAtMs: number;
  /** Grant number within the group: orders grants that share a millisecond. */
  readonly seq: number;
}

export interface RateGroupStats {
  /** Slots the group may fill per window: its limit less the safety margin (metrics show use against it). */
  limit: number;
  /** Callers waiting, per priority. */
  queued: Record<Priority, number>;
  /** Slots taken: requests in flight plus requests completed less than a window ago. */
  inWindow: number;
  /** The group sends nothing before this (Remaining-Req 0 or 429 backoff); 0 when not paused. */
  pausedUntilMs: number;
  /** Upbit blocked the group (418) until this; 0 when not blocked. */
  blockedUntilMs: number;
}

/**
 * Told of every grant (metrics): the group, the priority the caller asked with (an aged LOW caller
 * stays LOW), and how long it waited in the queue, ms.
 */
export type GrantListener = (group: string, priority: Priority, waitedMs: number) => void;

/** `Remaining-Req: group=candles; min=600; sec=9`. `min` is deprecated and ignored. */
export interface RemainingReq {
  group: string;
  sec: number;
}

export function parseRemainingReq(header: string | undefined): RemainingReq | undefined {
  if (header === undefined) return undefined;
  let group: string | undefined;
  let sec: number | undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const value = part.slice(eq + 1).trim();
    if (key === "group") group = value;
    else if (key === "sec" && /^\d+$/.test(value)) sec = Number(value);
  }
  return group !== undefined && sec !== undefined ? { group, sec } : undefined;
}

const UNIT_MS: ReadonlyArray<[RegExp, number]> = [
  [/^(ms|msec|milliseconds?|밀리초)$/i, 1],
  [/^(s|sec|secs|seconds?|초)$/i, 1_000],
  [/^(m|min|mins|minutes?|분)$/i, 60_000],
  [/^(h|hr|hrs|hours?|시간)$/i, 3_600_000],
];

/**
 * How long a 418 says we are blocked. Upbit documents that the reply carries the block time but
 * not its format (nobody has recorded one), so this reads a `Retry-After` header (seconds or an
 * HTTP date) and otherwise the first `<number> <unit>` in the error message ("30 seconds",
 * "10분"). Undefined when neither says anything.
 */
export function blockDurationMs(message: string | undefined, retryAfter: string | undefined, nowMs: number): number | undefined {
  if (retryAfter !== undefined) {
    const trimmed = retryAfter.trim();
    if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1_000;
    const at = Date.parse(trimmed);
    if (!Number.isNaN(at)) return Math.max(0, at - nowMs);
  }
  if (message === undefined) return undefined;
  const re = /(\d+(?:\.\d+)?)\s*([A-Za-z가-힣]+)/g;
  for (let m = re.exec(message); m !== null; m = re.exec(message)) {
    const unit = UNIT_MS.find(([pattern]) => pattern.test(m?.[2] ?? ""));
    if (unit !== undefined) return Math.round(Number(m[1]) * unit[1]);
  }
  return undefined;
}

interface Waiter {
  readonly priority: Priority;
  /** When it started waiting. */
  readonly since: number;
  readonly resolve: (permit: RatePermit) => void;
  readonly reject: (e: Error) => void;
  /** Removes the abort listener. */
  readonly detach: () => void;
}

class GroupState {
  /** Grant times inside the sliding window, oldest first. */
  /** Taken slots: when each comes free (+Infinity while its request is in flight), by permit seq. */
  readonly slots = new Map<number, number>();
  readonly queues: Record<Priority, Waiter[]> = { CRITICAL: [], HIGH: [], NORMAL: [], LOW: [] };
  pausedUntil = 0;
  /** Grants made so far; the next permit's seq. */
  granted = 0;
  /** First grant after the current 429 backoff began; 429s of earlier grants do not escalate it. */
  backoffFirstSeq = 0;
  consecutive429 = 0;
  blockedUntil = 0;
  /** First grant after the current block began; 418s of earlier grants do not escalate it. */
  blockFirstSeq = 0;
  consecutive418 = 0;
  /** When a CRITICAL caller last asked; the reserve is held while this is recent. */
  lastCriticalAt = Number.NEGATIVE_INFINITY;
  cancelTimer: (() => void) | undefined;

  constructor(readonly limit: number) {}
}

const defaultSchedule: ScheduleFn = (callback, delayMs) => {
  const handle = setTimeout(callback, delayMs);
  return () => clearTimeout(handle);
};

export class RateLimiter {
  private readonly groups = new Map<string, GroupState>();
  private readonly opts: Required<Omit<RateLimiterOptions, "groupLimits">> & { groupLimits: Readonly<Record<string, number>> };
  private readonly windowMs: number;
  private readonly grantListeners = new Set<GrantListener>();
  private closed = false;

  constructor(options: RateLimiterOptions = {}) {
    this.opts = {
      limitPerSecond: options.limitPerSecond ?? 10,
      groupLimits: options.groupLimits ?? {},
      safetyMargin: options.safetyMargin ?? 0,
      windowSlackMs: options.windowSlackMs ?? 20,
      criticalReserve: options.criticalReserve ?? 2,
      criticalReserveIdleMs: options.criticalReserveIdleMs ?? 60_000,
      lowHeadroom: options.lowHeadroom ?? 0,
      lowAgingMs: options.lowAgingMs ?? 10_000,
      rateLimitBackoffBaseMs: options.rateLimitBackoffBaseMs ?? 1_000,
      rateLimitBackoffMaxMs: options.rateLimitBackoffMaxMs ?? 30_000,
      blockDefaultMs: options.blockDefaultMs ?? 60_000,
      blockMaxMs: options.blockMaxMs ?? 600_000,
      now: options.now ?? Date.now,
      schedule: options.schedule ?? defaultSchedule,
      random: options.random ?? Math.random,
    };
    this.windowMs = WINDOW_MS + this.opts.windowSlackMs;
    for (const limit of [this.opts.limitPerSecond, ...Object.values(this.opts.groupLimits)]) this.checkLimit(limit);
    if (!(this.opts.windowSlackMs >= 0)) throw new RangeError("windowSlackMs must be >= 0");
  }

  private checkLimit(limit: number): void {
    const { safetyMargin, criticalReserve, lowHeadroom } = this.opts;
    if (![limit, safetyMargin, criticalReserve, lowHeadroom].every((n) => Number.isInteger(n) && n >= 0)) {
      throw new RangeError("rate limits, safetyMargin, criticalReserve and lowHeadroom must be integers >= 0");
    }
    if (limit - safetyMargin - criticalReserve - lowHeadroom < 1) {
      throw new RangeError(
        `limit ${limit} leaves no request for LOW callers after safetyMargin ${safetyMargin}, criticalReserve ${criticalReserve} and lowHeadroom ${lowHeadroom}`,
      );
    }
  }

  /**
   * Waits for a request slot of `group`. Rejects with UpstreamBlockedError while the group is
   * blocked (also for callers already waiting when the block starts), and with an AbortError when
   * `signal` fires first; an aborted waiter leaves the queue and takes no slot.
   */
  acquire(group: string, priority: Priority, signal?: AbortSignal): Promise<RatePermit> {
    if (signal?.aborted) return Promise.reject(new UpstreamAbortError(signal.reason));
    if (!PRIORITIES.includes(priority)) return Promise.reject(new RangeError(`unknown priority ${String(priority)}`));
    if (this.closed) return Promise.reject(new UpstreamUnavailableError(group, "rate limiter closed", 0));
    const state = this.state(group);
    const now = this.opts.now();
    if (now < state.blockedUntil) return Promise.reject(new UpstreamBlockedError(group, group, state.blockedUntil));
    if (priority === "CRITICAL") state.lastCriticalAt = now;
    return new Promise<RatePermit>((resolve, reject) => {
      const onAbort = () => {
        // An aged LOW waiter may have moved to the NORMAL queue.
        for (const queue of [state.queues[priority], state.queues.NORMAL]) {
          const i = queue.indexOf(waiter);
          if (i >= 0) queue.splice(i, 1);
        }
        reject(new UpstreamAbortError(signal?.reason));
        // The head may have changed (LOW behind an aborted NORMAL).
        this.pump(group, state);
      };
      const waiter: Waiter = {
        priority,
        since: now,
        resolve,
        reject,
        detach: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      state.queues[priority].push(waiter);
      this.pump(group, state);
    });
  }

  /** The request of `permit` has completed (any outcome): its slot comes free one window from now. Idempotent. */
  release(permit: RatePermit): void {
    const state = this.state(permit.group);
    if (state.slots.get(permit.seq) !== Number.POSITIVE_INFINITY) return;
    state.slots.set(permit.seq, this.opts.now() + this.windowMs);
    this.pump(permit.group, state);
  }

  /**
   * Any reply other than 429/418. `remainingSec` is the `sec` of its Remaining-Req header. At 0,
   * when fewer than the group's limit of our own requests could have reached Upbit in the last
   * second (slots taken), someone else spends this IP's budget: the group pauses for a full
   * window from now, which covers the rest of Upbit's current second whatever its phase relative
   * to our clock. When our own requests fill the limit they explain the 0, and the slots already
   * hold each next request a full second behind the one whose slot it takes; pausing as well
   * would idle every slot until a second after this reply (10% of a backtest's throughput).
   */
  onReply(permit: RatePermit, remainingSec?: number): void {
    const state = this.state(permit.group);
    if (permit.seq >= state.backoffFirstSeq) state.consecutive429 = 0;
    if (permit.seq >= state.blockFirstSeq) state.consecutive418 = 0;
    if (remainingSec === 0) {
      const now = this.opts.now();
      this.expire(state, now);
      if (state.slots.size < state.limit) this.pause(permit.group, state, now + this.windowMs);
    }
    this.release(permit);
  }

  /**
   * A 429: pauses the whole group. Only a 429 to a request granted after the current backoff
   * began escalates it; the ones already in flight when it began just confirm it.
   * Returns when the group may send again.
   */
  onRateLimited(permit: RatePermit): number {
    const state = this.state(permit.group);
    const now = this.opts.now();
    const escalates = permit.seq >= state.backoffFirstSeq;
    if (escalates) {
      state.consecutive429++;
      state.backoffFirstSeq = state.granted;
    }
    const { rateLimitBackoffBaseMs: base, rateLimitBackoffMaxMs: max } = this.opts;
    const delay = Math.min(max, base * 2 ** Math.min(30, state.consecutive429 - 1));
    const until = now + delay + (escalates ? delay * 0.5 * this.opts.random() : 0);
    this.pause(permit.group, state, until);
    this.release(permit);
    return state.pausedUntil;
  }

  /**
   * A 418: blocks the group for `durationMs` (what the reply said) or a default that doubles with
   * each repeat, and fails everyone waiting for it. Returns when the block ends.
   */
  onBlocked(permit: RatePermit, durationMs: number | undefined): number {
    const state = this.state(permit.group);
    const now = this.opts.now();
    if (permit.seq < state.blockFirstSeq) {
      // In flight when the block began: the same offence, not a repeat.
      if (durationMs !== undefined) state.blockedUntil = Math.max(state.blockedUntil, now + durationMs);
      this.release(permit);
      return state.blockedUntil;
    }
    state.consecutive418++;
    const assumed = Math.min(this.opts.blockMaxMs, this.opts.blockDefaultMs * 2 ** Math.min(30, state.consecutive418 - 1));
    state.blockedUntil = Math.max(state.blockedUntil, now + (durationMs ?? assumed));
    state.blockFirstSeq = state.granted;
    state.cancelTimer?.();
    state.cancelTimer = undefined;
    const error = new UpstreamBlockedError(permit.group, permit.group, state.blockedUntil);
    this.rejectAll(state, error);
    this.release(permit);
    return state.blockedUntil;
  }

  /** Until when Upbit blocks `group`, or undefined when it does not. */
  blockedUntil(group: string): number | undefined {
    const until = this.groups.get(group)?.blockedUntil ?? 0;
    return until > this.opts.now() ? until : undefined;
  }

  /** Calls `listener` on every grant from now on; returns the function that stops it. */
  onGranted(listener: GrantListener): () => void {
    this.grantListeners.add(listener);
    return () => this.grantListeners.delete(listener);
  }

  stats(group: string): RateGroupStats {
    const state = this.state(group);
    const now = this.opts.now();
    this.expire(state, now);
    return {
      limit: state.limit - this.opts.safetyMargin,
      queued: { CRITICAL: state.queues.CRITICAL.length, HIGH: state.queues.HIGH.length, NORMAL: state.queues.NORMAL.length, LOW: state.queues.LOW.length },
      inWindow: state.slots.size,
      pausedUntilMs: state.pausedUntil > now ? state.pausedUntil : 0,
      blockedUntilMs: state.blockedUntil > now ? state.blockedUntil : 0,
    };
  }

  /** Fails every waiter and every later acquire with UpstreamUnavailableError; stops all timers. */
  close(): void {
    this.closed = true;
    for (const [group, state] of this.groups) {
      state.cancelTimer?.();
      state.cancelTimer = undefined;
      this.rejectAll(state, new UpstreamUnavailableError(group, "rate limiter closed", 0));
    }
  }

  private state(group: string): GroupState {
    let state = this.groups.get(group);
    if (state === undefined) {
      state = new GroupState(this.opts.groupLimits[group] ?? this.opts.limitPerSecond);
      this.groups.set(group, state);
    }
    return state;
  }

  /** Grants of one window a caller of `priority` may fill. */
  private capacity(state: GroupState, priority: Priority, now: number): number {
    const usable = state.limit - this.opts.safetyMargin;
    if (priority === "CRITICAL") return usable;
    const reserved = now - state.lastCriticalAt <= this.opts.criticalReserveIdleMs ? this.opts.criticalReserve : 0;
    return usable - reserved - (priority === "LOW" ? this.opts.lowHeadroom : 0);
  }

  private expire(state: GroupState, now: number): void {
    for (const [seq, freeAt] of state.slots) if (freeAt <= now) state.slots.delete(seq);
  }

  private pause(group: string, state: GroupState, until: number): void {
    if (until <= state.pausedUntil) return;
    state.pausedUntil = until;
    this.pump(group, state);
  }

  private rejectAll(state: GroupState, error: Error): void {
    for (const priority of PRIORITIES) {
      const queue = state.queues[priority];
      state.queues[priority] = [];
      for (const waiter of queue) {
        waiter.detach();
        waiter.reject(error);
      }
    }
  }

  /** Grants what can go now, highest priority first, and sets one timer for the next change. */
  private pump(group: string, state: GroupState): void {
    state.cancelTimer?.();
    state.cancelTimer = undefined;
    const now = this.opts.now();
    if (now < state.blockedUntil) {
      this.rejectAll(state, new UpstreamBlockedError(group, group, state.blockedUntil));
      return;
    }
    this.expire(state, now);
    this.promoteAgedLow(state, now);
    for (;;) {
      const priority = PRIORITIES.find((p) => state.queues[p].length > 0);
      if (priority === undefined) return;
      const readyAt = this.readyAt(state, priority, now);
      if (readyAt === Number.POSITIVE_INFINITY) return;
      if (readyAt > now) {
        state.cancelTimer = this.opts.schedule(() => {
          state.cancelTimer = undefined;
          this.pump(group, state);
        }, readyAt - now);
        return;
      }
      const waiter = state.queues[priority].shift();
      if (waiter === undefined) return;
      const seq = state.granted++;
      state.slots.set(seq, Number.POSITIVE_INFINITY);
      waiter.detach();
      waiter.resolve({ group, grantedAtMs: now, seq });
      this.tellGranted(group, waiter.priority, now - waiter.since);
    }
  }

  private tellGranted(group: string, priority: Priority, waitedMs: number): void {
    for (const listener of this.grantListeners) {
      try {
        listener(group, priority, waitedMs);
      } catch {
        // An observer's failure must not stop grants: the queue state is already updated.
      }
    }
  }

  /**
   * Moves LOW waiters older than `lowAgingMs` into the NORMAL queue, in order of waiting time.
   * Runs on every pump; while higher work keeps a group busy its slots keep freeing and pumping.
   */
  private promoteAgedLow(state: GroupState, now: number): void {
    const low = state.queues.LOW;
    while (low.length > 0 && now - low[0]!.since >= this.opts.lowAgingMs) {
      const waiter = low.shift()!;
      const normal = state.queues.NORMAL;
      const at = normal.findIndex((w) => w.since > waiter.since);
      normal.splice(at < 0 ? normal.length : at, 0, waiter);
    }
  }

  /**
   * Earliest time a caller of `priority` may be granted, given the slots taken so far; +Infinity
   * when that depends on requests still in flight (their release pumps again).
   */
  private readyAt(state: GroupState, priority: Priority, now: number): number {
    const cap = this.capacity(state, priority, now);
    const start = Math.max(now, state.pausedUntil);
    const excess = state.slots.size - cap;
    if (excess < 0) return start;
    // `excess + 1` slots must come free; the last of them decides.
    const freeAt = [...state.slots.values()].sort((a, b) => a - b);
    return Math.max(start, freeAt[excess] ?? Number.POSITIVE_INFINITY);
  }
}
