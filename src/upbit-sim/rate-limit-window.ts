/**
 * Upbit's quotation rate limits (API.md §3): fixed windows per (client IP, group), a 429 once a
 * window's budget is spent, and a temporary IP block (418) for a client that keeps sending after
 * being refused, the block growing with each repeat offence. Time comes from `now`, so tests
 * step a clock instead of sleeping.
 */

/** The budget of one group. */
export interface RateLimitPolicy {
  /** Requests accepted per window. */
  readonly limit: number;
  /** Window length in ms (windows are aligned to multiples of it, like Upbit's seconds). */
  readonly windowMs: number;
  /** The deprecated constant Upbit still writes as `min=` in `Remaining-Req`. */
  readonly minHeaderValue: number;
}

export type Admission =
  /** `remaining`: requests left in this window after this one (`sec=` of `Remaining-Req`). */
  | { readonly kind: "accepted"; readonly remaining: number }
  | { readonly kind: "limited" }
  /** The client IP is blocked; `blockSeconds` is the time left, rounded up. */
  | { readonly kind: "blocked"; readonly blockSeconds: number };

export interface RateLimiterOptions {
  /** Budget per group name; a group missing here is never limited. */
  readonly policies: ReadonlyMap<string, RateLimitPolicy>;
  readonly now: () => number;
  /** Refused requests tolerated after a first 429 within `refusalSpanMs` before a block. Default 5. */
  readonly refusalsBeforeBlock?: number;
  /** How long refusals are remembered when counting towards a block. Default 2 000 ms: a client that overshoots by one request each second is not blocked, one that hammers is. */
  readonly refusalSpanMs?: number;
  /** First block length; each repeat offence doubles it. Default 10 000 ms. */
  readonly firstBlockMs?: number;
  /** Longest block. Default 600 000 ms. */
  readonly maxBlockMs?: number;
  /** A client that behaved this long after its last block starts again at `firstBlockMs`. Default 3 600 000 ms. */
  readonly offenceMemoryMs?: number;
}

const DEFAULT_REFUSALS_BEFORE_BLOCK = 5;
const DEFAULT_REFUSAL_SPAN_MS = 2_000;
const DEFAULT_FIRST_BLOCK_MS = 10_000;
const DEFAULT_MAX_BLOCK_MS = 600_000;
const DEFAULT_OFFENCE_MEMORY_MS = 3_600_000;
/** Beyond this many tracked windows, stale ones are dropped (bounded memory under many IPs). */
const PRUNE_THRESHOLD = 10_000;

interface WindowState {
  index: number;
  count: number;
}

interface ClientState {
  /** Times of recent 429s, oldest first. */
  refusals: number[];
  blockedUntilMs: number;
  offences: number;
}

export class QuotationRateLimiter {
  private readonly windows = new Map<string, WindowState>();
  private readonly clients = new Map<string, ClientState>();
  private readonly refusalsBeforeBlock: number;
  private readonly refusalSpanMs: number;
  private readonly firstBlockMs: number;
  private readonly maxBlockMs: number;
  private readonly offenceMemoryMs: number;

  constructor(private readonly options: RateLimiterOptions) {
    this.refusalsBeforeBlock = options.refusalsBeforeBlock ?? DEFAULT_REFUSALS_BEFORE_BLOCK;
    this.refusalSpanMs = options.refusalSpanMs ?? DEFAULT_REFUSAL_SPAN_MS;
    this.firstBlockMs = options.firstBlockMs ?? DEFAULT_FIRST_BLOCK_MS;
    this.maxBlockMs = options.maxBlockMs ?? DEFAULT_MAX_BLOCK_MS;
    this.offenceMemoryMs = options.offenceMemoryMs ?? DEFAULT_OFFENCE_MEMORY_MS;
  }

  policy(group: string): RateLimitPolicy | undefined {
    return this.options.policies.get(group);
  }

  /** Counts one request of `ip` in `group` and says whether it may be served. */
  admit(ip: string, group: string): Admission {
    const now = this.options.now();
    const client = this.clients.get(ip);
    if (client && client.blockedUntilMs > now) {
      return { kind: "blocked", blockSeconds: Math.ceil((client.blockedUntilMs - now) / 1000) };
    }
    const policy = this.options.policies.get(group);
    if (!policy) return { kind: "accepted", remaining: Number.MAX_SAFE_INTEGER };
    const index = Math.floor(now / policy.windowMs);
    const key = `${ip}\u0000${group}`;
    let window = this.windows.get(key);
    if (!window || window.index !== index) {
      if (!window && this.windows.size >= PRUNE_THRESHOLD) this.prune(now);
      window = { index, count: 0 };
      this.windows.set(key, window);
    }
    if (window.count < policy.limit) {
      window.count++;
      return { kind: "accepted", remaining: policy.limit - window.count };
    }
    return this.refuse(ip, now);
  }

  /** Forgets every window, refusal and block. */
  reset(): void {
    this.windows.clear();
    this.clients.clear();
  }

  private refuse(ip: string, now: number): Admission {
    let client = this.clients.get(ip);
    if (!client) {
      client = { refusals: [], blockedUntilMs: 0, offences: 0 };
      this.clients.set(ip, client);
    }
    if (client.offences > 0 && now - client.blockedUntilMs > this.offenceMemoryMs) client.offences = 0;
    client.refusals = client.refusals.filter((t) => now - t < this.refusalSpanMs);
    client.refusals.push(now);
    // The first refusal is the 429 itself; only refusals after it count towards a block.
    if (client.refusals.length <= this.refusalsBeforeBlock + 1) return { kind: "limited" };
    client.offences++;
    const blockMs = Math.min(this.maxBlockMs, this.firstBlockMs * 2 ** (client.offences - 1));
    client.blockedUntilMs = now + blockMs;
    client.refusals = [];
    return { kind: "blocked", blockSeconds: Math.ceil(blockMs / 1000) };
  }

  private prune(now: number): void {
    for (const [key, w] of this.windows) {
      const group = key.slice(key.indexOf("\u0000") + 1);
      const windowMs = this.options.policies.get(group)?.windowMs ?? 1000;
      if (w.index !== Math.floor(now / windowMs)) this.windows.delete(key);
    }
    for (const [ip, c] of this.clients) {
      if (c.blockedUntilMs <= now && c.refusals.every((t) => now - t >= this.refusalSpanMs) && now - c.blockedUntilMs > this.offenceMemoryMs) {
        this.clients.delete(ip);
      }
    }
  }
}
