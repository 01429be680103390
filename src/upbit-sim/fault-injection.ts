/**
 * Injected failures for `POST /_sim/faults` (not an Upbit feature): extra latency, a share of 5xx
 * replies (JSON or an HTML page, as a gateway in front of Upbit may send), a burst of 429s and
 * the WebSocket faults, which are passed on to the WebSocket front end. Which requests fail is
 * drawn from a generator seeded by the simulator seed, so a run is reproducible.
 */

export interface FaultSettings {
  /** Extra delay before each quotation reply, ms (0 = none). */
  readonly latencyMs: number;
  /** Share of quotation requests answered with a 500, 0..1. */
  readonly errorRate: number;
  /** Quotation requests still to be answered with 429 regardless of the budget. */
  readonly burst429Remaining: number;
  /** Drop every WebSocket connection this often, ms (undefined = never). */
  readonly wsDisconnectEveryMs: number | undefined;
  /** Keep WebSocket connections open but send nothing. */
  readonly wsStall: boolean;
}

/** The body of `POST /_sim/faults`: only the fields given change. */
export interface FaultPatch {
  readonly latencyMs?: number;
  readonly errorRate?: number;
  readonly burst429?: { readonly count: number };
  /** 0 or null switches the periodic disconnect off. */
  readonly wsDisconnectEveryMs?: number | null;
  readonly wsStall?: boolean;
}

/** A fault request the simulator cannot accept; the admin API answers 400 with this message. */
export class FaultRequestError extends Error {
  override readonly name = "FaultRequestError";
}

/** Longest injectable latency: more would only make a test hang. */
export const MAX_LATENCY_MS = 60_000;
const MAX_BURST_429 = 1_000_000;
const FAULT_KEYS: ReadonlySet<string> = new Set(["latencyMs", "errorRate", "burst429", "wsDisconnectEveryMs", "wsStall"]);

const NO_FAULTS: FaultSettings = {
  latencyMs: 0,
  errorRate: 0,
  burst429Remaining: 0,
  wsDisconnectEveryMs: undefined,
  wsStall: false,
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function finiteNumber(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new FaultRequestError(`${field} must be a number from ${min} to ${max}`);
  }
  return value;
}

/** Validates a parsed `POST /_sim/faults` body. */
export function parseFaultPatch(body: unknown): FaultPatch {
  if (!isRecord(body)) throw new FaultRequestError("body must be a JSON object");
  for (const key of Object.keys(body)) {
    if (!FAULT_KEYS.has(key)) throw new FaultRequestError(`unknown field ${JSON.stringify(key)}; known: ${[...FAULT_KEYS].join(", ")}`);
  }
  const patch: {
    latencyMs?: number;
    errorRate?: number;
    burst429?: { count: number };
    wsDisconnectEveryMs?: number | null;
    wsStall?: boolean;
  } = {};
  if (body.latencyMs !== undefined) patch.latencyMs = finiteNumber(body.latencyMs, "latencyMs", 0, MAX_LATENCY_MS);
  if (body.errorRate !== undefined) patch.errorRate = finiteNumber(body.errorRate, "errorRate", 0, 1);
  if (body.burst429 !== undefined) {
    const burst = body.burst429;
    if (!isRecord(burst) || Object.keys(burst).some((k) => k !== "count")) {
      throw new FaultRequestError('burst429 must be an object {"count": n}');
    }
    const count = finiteNumber(burst.count, "burst429.count", 0, MAX_BURST_429);
    if (!Number.isInteger(count)) throw new FaultRequestError("burst429.count must be an integer");
    patch.burst429 = { count };
  }
  if (body.wsDisconnectEveryMs !== undefined) {
    patch.wsDisconnectEveryMs =
      body.wsDisconnectEveryMs === null ? null : finiteNumber(body.wsDisconnectEveryMs, "wsDisconnectEveryMs", 0, Number.MAX_SAFE_INTEGER);
  }
  if (body.wsStall !== undefined) {
    if (typeof body.wsStall !== "boolean") throw new FaultRequestError("wsStall must be a boolean");
    patch.wsStall = body.wsStall;
  }
  return patch;
}

/** What an injected server error looks like. */
export type ServerErrorBody = "json" | "html";

/** mulberry32: tiny, fast, good enough to pick which requests fail. */
function seededRandom(seed: number): () => number {
  let state = (seed ^ 0x9e3779b9) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export class FaultInjector {
  private current: FaultSettings = NO_FAULTS;
  private random: () => number;

  constructor(private readonly seed: number) {
    this.random = seededRandom(seed);
  }

  get settings(): FaultSettings {
    return this.current;
  }

  apply(patch: FaultPatch): FaultSettings {
    const c = this.current;
    const disconnect = patch.wsDisconnectEveryMs;
    this.current = {
      latencyMs: patch.latencyMs ?? c.latencyMs,
      errorRate: patch.errorRate ?? c.errorRate,
      burst429Remaining: patch.burst429?.count ?? c.burst429Remaining,
      wsDisconnectEveryMs: disconnect === undefined ? c.wsDisconnectEveryMs : disconnect === null || disconnect === 0 ? undefined : disconnect,
      wsStall: patch.wsStall ?? c.wsStall,
    };
    return this.current;
  }

  /** No faults, and the random sequence starts over (a reset run repeats the same failures). */
  reset(): void {
    this.current = NO_FAULTS;
    this.random = seededRandom(this.seed);
  }

  /** True when this request is one of the burst of 429s (and uses it up). */
  takeBurst429(): boolean {
    if (this.current.burst429Remaining <= 0) return false;
    this.current = { ...this.current, burst429Remaining: this.current.burst429Remaining - 1 };
    return true;
  }

  /** Whether this request fails with a 500, and with which body; undefined = serve it. */
  drawServerError(): ServerErrorBody | undefined {
    if (this.current.errorRate <= 0) return undefined;
    if (this.random() >= this.current.errorRate) return undefined;
    return this.random() < 0.5 ? "json" : "html";
  }
}
