import { randomUUID } from "node:crypto";
import WebSocket from "ws";
import { InvalidArgumentError } from "../../shared/errors.js";
import { silentLogger, type Logger } from "../../shared/logger.js";
import { isMarketCode } from "../../shared/market-code.js";
import type { UpbitCandleUpdate, UpbitOrderbook, UpbitTicker, UpbitTrade } from "./upbit-types.js";
import {
  parseUpbitWebSocketFrame,
  type UpbitWebSocketFrameError,
  type UpbitWebSocketServerError,
} from "./upbit-websocket-parsers.js";
import { UPBIT_WS_DATA_TYPES, UPBIT_WS_ORDERBOOK_DEPTHS, type UpbitWsCandleType, type UpbitWsDataType } from "../../shared/upbit-websocket-protocol.js";

/**
 * Client of Upbit's public quotation WebSocket (API.md §4): one connection carrying the full
 * desired subscription, kept alive with pings, replaced when silent, reconnected with backoff and
 * resubscribed, with the window of possibly lost data reported on each reconnect.
 */

export const UPBIT_WEBSOCKET_URL = "wss://api.upbit.com/websocket/v1";
/**
 * Keep-alive period. The wire closes idle sockets at ~60 s (API.md §4.3), but the pongs are also
 * how a stalled connection (open, silent, data lost) is told from a quiet one: data sent during a
 * stall never arrives, and only a replaced connection reports the window for backfill. So ping
 * often and give up after a few missed pongs (~165 ms each on the wire); a stall shorter than
 * DEFAULT_DEAD_AFTER_MS goes unnoticed (Upbit's trade ids are not contiguous, nothing else tells).
 */
export const DEFAULT_PING_INTERVAL_MS = 5_000;
export const MAX_PING_INTERVAL_MS = 30_000;
/** Above the 10 s of Upbit's `{"status":"UP"}` heartbeat, so the text-ping keep-alive stays alive too. */
export const DEFAULT_DEAD_AFTER_MS = 12_000;
export const DEFAULT_RECONNECT_BASE_MS = 500;
export const DEFAULT_RECONNECT_MAX_MS = 30_000;
/** Upbit's limit on messages sent per connection per second (API.md §3). */
export const UPBIT_MESSAGES_PER_SECOND = 5;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const RATE_WINDOW_MS = 1_000;
/** Slack on the rate window so network jitter cannot squeeze six sends into one of Upbit's seconds. */
const RATE_WINDOW_MARGIN_MS = 100;
/** How long close() waits for the server's close frame before dropping the socket. */
const CLOSE_GRACE_MS = 1_000;

export type UpbitWebSocketFormat = "DEFAULT" | "SIMPLE" | "JSON_LIST" | "SIMPLE_LIST";

export type UpbitCandleStreamType = UpbitWsCandleType;
export type UpbitWebSocketStreamType = UpbitWsDataType;
const STREAM_TYPES: readonly UpbitWebSocketStreamType[] = UPBIT_WS_DATA_TYPES;
const ORDERBOOK_DEPTHS = UPBIT_WS_ORDERBOOK_DEPTHS;

export interface UpbitWebSocketSubscription {
  type: UpbitWebSocketStreamType;
  /** Market codes; lower case is upper-cased (Upbit silently ignores lower-case codes). */
  codes: readonly string[];
  /** Orderbook only: levels per side, 1, 5, 15 or 30. Default Upbit's 30. */
  depth?: number;
  /** Orderbook only, KRW markets only: price aggregation unit. Default 0 (native tick). */
  level?: number;
}

/** Timer functions, so tests can count what is left running. */
export interface UpbitWebSocketTimers {
  setTimeout(callback: () => void, ms: number): ReturnType<typeof setTimeout>;
  clearTimeout(handle: ReturnType<typeof setTimeout>): void;
  setInterval(callback: () => void, ms: number): ReturnType<typeof setInterval>;
  clearInterval(handle: ReturnType<typeof setInterval>): void;
}

export interface UpbitWebSocketClientOptions {
  /** Upbit's public WebSocket endpoint. Default `wss://api.upbit.com/websocket/v1`. */
  url?: string;
  /**
   * Clock (UTC ms) for the gap windows, silence and the message rate. Default `Date.now`. Timers
   * stay real, so a clock that does not move also stops dead detection and rate-limit waits.
   */
  now?: () => number;
  /** Frame format asked of Upbit. Default `SIMPLE` (abbreviated keys: smaller frames). */
  format?: UpbitWebSocketFormat;
  /** Keep-alive period, ms, at most 30 000. Default 5 000. */
  pingIntervalMs?: number;
  /**
   * Keep-alive kind: a protocol ping (Upbit pongs) or the text `PING` (Upbit then sends
   * `{"status":"UP"}` every 10 s; the text counts against the message rate). Default `ping-frame`.
   */
  keepAlive?: "ping-frame" | "text-ping";
  /** Silence (no frame, no pong) after which the connection is taken for dead and replaced, ms. Default 12 000. */
  deadAfterMs?: number;
  /** Reconnect delay before jitter for the first failed attempt, ms; doubles per attempt. Default 500. */
  reconnectBaseMs?: number;
  /** Upper bound of the reconnect delay, ms. Default 30 000. */
  reconnectMaxMs?: number;
  /** Random source in [0, 1) for the jitter: a delay d becomes d/2 + random() × d/2. Default `Math.random`. */
  random?: () => number;
  /** Messages sent per connection in any second, at most. Default Upbit's 5. */
  maxMessagesPerSecond?: number;
  /** WebSocket handshake timeout, ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** Default the global timer functions. */
  timers?: UpbitWebSocketTimers;
  /** Lifecycle and listener failures. Default silent. */
  logger?: Logger;
}

/** Failure to connect, or a socket-level error on an open connection. */
export class UpbitWebSocketConnectionError extends Error {
  override readonly name = "UpbitWebSocketConnectionError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Nothing arrived (no frame, no pong) for `silentMs`: the connection is replaced. */
export class UpbitWebSocketSilenceError extends Error {
  override readonly name = "UpbitWebSocketSilenceError";
  constructor(readonly silentMs: number) {
    super(`no frame or pong from Upbit for ${silentMs} ms`);
  }
}

export type UpbitWebSocketError =
  | UpbitWebSocketFrameError
  | UpbitWebSocketServerError
  | UpbitWebSocketConnectionError
  | UpbitWebSocketSilenceError;

export interface UpbitWebSocketDisconnect {
  /** When the drop was noticed, per `now`. */
  atMs: number;
  /** Last frame received on any connection before the drop; undefined if none ever arrived. */
  lastFrameAtMs: number | undefined;
  /** WebSocket close code (1006: dropped without a close frame). */
  code: number;
  reason: string;
  /** Why we dropped it ourselves (silence) or the socket error, when known. */
  cause?: UpbitWebSocketError;
}

export interface UpbitWebSocketReconnect {
  /** Last frame received before the drop: data after it may be lost. */
  fromMs: number;
  /** First frame received after resubscribing: data flows again from here. */
  toMs: number;
  /** Connection attempts it took. */
  attempts: number;
}

export interface UpbitWebSocketEvents {
  ticker: (ticker: UpbitTicker) => void;
  trade: (trade: UpbitTrade) => void;
  orderbook: (orderbook: UpbitOrderbook) => void;
  candle: (candle: UpbitCandleUpdate) => void;
  error: (error: UpbitWebSocketError) => void;
  disconnect: (event: UpbitWebSocketDisconnect) => void;
  reconnect: (event: UpbitWebSocketReconnect) => void;
}

export type UpbitWebSocketState = "idle" | "connecting" | "open" | "waiting" | "closed";

export interface UpbitWebSocketClient {
  /**
   * Replaces the whole subscription (Upbit replaces it too, per request frame). Connects on the
   * first non-empty set; an empty set closes the connection. Calls are coalesced, so a burst never
   * sends more than `maxMessagesPerSecond` frames in a second; the last set asked always wins.
   * Throws InvalidArgumentError on an unknown type, a bad code, depth or level.
   */
  setSubscriptions(subscriptions: readonly UpbitWebSocketSubscription[]): void;
  /** Adds a listener; returns its remover. A listener that throws is logged and skipped. */
  on<E extends keyof UpbitWebSocketEvents>(event: E, listener: UpbitWebSocketEvents[E]): () => void;
  state(): UpbitWebSocketState;
  /** Stops for good: no more events, timers or connections. Resolves once the socket is closed. */
  close(): Promise<void>;
}

/** One Upbit type object of the request frame. */
export interface UpbitWebSocketTypeRequest {
  type: UpbitWebSocketStreamType;
  codes: string[];
  level?: number;
}

/** Validates and canonicalises a subscription set, so equal sets give equal frames. */
export function normalizeUpbitSubscriptions(subscriptions: readonly UpbitWebSocketSubscription[]): UpbitWebSocketTypeRequest[] {
  // Several orderbook objects are allowed (one per level); everything else merges per type.
  const byKey = new Map<string, { type: UpbitWebSocketStreamType; level: number | undefined; codes: Map<string, string> }>();
  subscriptions.forEach((sub, index) => {
    const field = `subscriptions[${index}]`;
    if (!STREAM_TYPES.includes(sub.type)) {
      throw new InvalidArgumentError(`${field}.type`, JSON.stringify(sub.type), `is not one of ${STREAM_TYPES.join(", ")}`);
    }
    const isBook = sub.type === "orderbook";
    if (sub.depth !== undefined && (!isBook || !ORDERBOOK_DEPTHS.includes(sub.depth))) {
      throw new InvalidArgumentError(`${field}.depth`, String(sub.depth), `is only for orderbook and one of ${ORDERBOOK_DEPTHS.join(", ")}`);
    }
    if (sub.level !== undefined && (!isBook || !Number.isFinite(sub.level) || sub.level < 0)) {
      throw new InvalidArgumentError(`${field}.level`, String(sub.level), "is only for orderbook and must be a number >= 0");
    }
    const level = isBook && sub.level !== undefined && sub.level > 0 ? sub.level : undefined;
    const key = `${sub.type}|${level ?? 0}`;
    let entry = byKey.get(key);
    if (entry === undefined) byKey.set(key, (entry = { type: sub.type, level, codes: new Map() }));
    for (const raw of sub.codes) {
      const code = typeof raw === "string" ? raw.toUpperCase() : "";
      if (!isMarketCode(code)) {
        throw new InvalidArgumentError(`${field}.codes`, JSON.stringify(raw), "is not a market code, e.g. KRW-BTC");
      }
      // A non-zero level on a BTC/USDT pair makes Upbit send nothing at all for it (API.md §4.6).
      if (level !== undefined && !code.startsWith("KRW-")) {
        throw new InvalidArgumentError(`${field}.level`, String(level), `applies to KRW markets only, not ${code}`);
      }
      entry.codes.set(code, isBook && sub.depth !== undefined ? `${code}.${sub.depth}` : code);
    }
  });
  return [...byKey.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .filter(([, e]) => e.codes.size > 0)
    .map(([, e]) => ({
      type: e.type,
      codes: [...e.codes.values()].sort(),
      ...(e.level === undefined ? {} : { level: e.level }),
    }));
}

/** Sliding-window budget of sends: no window of `windowMs` ever holds more than `limit`. */
class SendBudget {
  private readonly sentAt: number[] = [];
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** 0 when a send may go now, else the ms to wait. */
  waitMs(now: number): number {
    if (this.sentAt.length < this.limit) return 0;
    return Math.max(0, (this.sentAt[0] ?? now) + this.windowMs - now);
  }

  record(now: number): void {
    this.sentAt.push(now);
    if (this.sentAt.length > this.limit) this.sentAt.shift();
  }
}

export function createUpbitWebSocketClient(options: UpbitWebSocketClientOptions = {}): UpbitWebSocketClient {
  const url = options.url ?? UPBIT_WEBSOCKET_URL;
  const now = options.now ?? Date.now;
  const format = options.format ?? "SIMPLE";
  const pingIntervalMs = options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
  const keepAlive = options.keepAlive ?? "ping-frame";
  const deadAfterMs = options.deadAfterMs ?? DEFAULT_DEAD_AFTER_MS;
  const reconnectBaseMs = options.reconnectBaseMs ?? DEFAULT_RECONNECT_BASE_MS;
  const reconnectMaxMs = options.reconnectMaxMs ?? DEFAULT_RECONNECT_MAX_MS;
  const random = options.random ?? Math.random;
  const maxMessagesPerSecond = options.maxMessagesPerSecond ?? UPBIT_MESSAGES_PER_SECOND;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const timers: UpbitWebSocketTimers = options.timers ?? { setTimeout, clearTimeout, setInterval, clearInterval };
  const log = options.logger ?? silentLogger;

  if (!(pingIntervalMs > 0 && pingIntervalMs <= MAX_PING_INTERVAL_MS)) {
    throw new RangeError(`pingIntervalMs must be in (0, ${MAX_PING_INTERVAL_MS}], got ${pingIntervalMs}`);
  }
  // A healthy but quiet connection only proves itself by pongs, one per ping interval.
  if (!(deadAfterMs > pingIntervalMs)) throw new RangeError(`deadAfterMs (${deadAfterMs}) must exceed pingIntervalMs (${pingIntervalMs})`);
  if (!(reconnectBaseMs > 0 && reconnectMaxMs >= reconnectBaseMs)) {
    throw new RangeError(`need 0 < reconnectBaseMs <= reconnectMaxMs, got ${reconnectBaseMs}, ${reconnectMaxMs}`);
  }
  if (!(Number.isInteger(maxMessagesPerSecond) && maxMessagesPerSecond >= 1)) {
    throw new RangeError(`maxMessagesPerSecond must be a positive integer, got ${maxMessagesPerSecond}`);
  }

  const ticket = randomUUID();
  const listeners: { [E in keyof UpbitWebSocketEvents]: Set<UpbitWebSocketEvents[E]> } = {
    ticker: new Set(),
    trade: new Set(),
    orderbook: new Set(),
    candle: new Set(),
    error: new Set(),
    disconnect: new Set(),
    reconnect: new Set(),
  };
  // Upbit's limit is per connection; keeping one budget across reconnects is stricter, never looser.
  const budget = new SendBudget(maxMessagesPerSecond, RATE_WINDOW_MS + RATE_WINDOW_MARGIN_MS);

  let desired: UpbitWebSocketTypeRequest[] = [];
  let desiredFrame: string | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;
  let resolveClosed: (() => void) | undefined;

  let socket: WebSocket | undefined;
  /** Sockets closed for an empty subscription, still saying goodbye. */
  const retiring = new Set<WebSocket>();
  let opened = false;
  /** The frame the current connection is subscribed with. */
  let sentFrame: string | undefined;
  let subscribedAtMs: number | undefined;
  let lastRxMs = 0;
  let lastFrameAtMs: number | undefined;
  let dropCause: UpbitWebSocketError | undefined;
  /** Set while data may be missing: from the last frame before a drop until data flows again. */
  let gapFromMs: number | undefined;
  /** Connection attempts since data last flowed. */
  let attempts = 0;

  let flushQueued = false;
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let pingTimer: ReturnType<typeof setInterval> | undefined;
  let deadTimer: ReturnType<typeof setTimeout> | undefined;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let closeGraceTimer: ReturnType<typeof setTimeout> | undefined;

  function emit<E extends keyof UpbitWebSocketEvents>(event: E, ...args: Parameters<UpbitWebSocketEvents[E]>): void {
    if (closed) return;
    for (const listener of listeners[event]) {
      try {
        (listener as (...a: Parameters<UpbitWebSocketEvents[E]>) => void)(...args);
      } catch (e) {
        log.error("upbit websocket listener failed", { event, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  function clearSocketTimers(): void {
    if (flushTimer !== undefined) timers.clearTimeout(flushTimer);
    if (pingTimer !== undefined) timers.clearInterval(pingTimer);
    if (deadTimer !== undefined) timers.clearTimeout(deadTimer);
    flushTimer = pingTimer = deadTimer = undefined;
  }

  function connect(): void {
    attempts++;
    opened = false;
    sentFrame = undefined;
    subscribedAtMs = undefined;
    dropCause = undefined;
    const ws = new WebSocket(url, { handshakeTimeout: connectTimeoutMs });
    socket = ws;
    ws.on("open", () => onOpen(ws));
    ws.on("message", (data: WebSocket.RawData) => onFrame(ws, data));
    ws.on("pong", () => {
      if (onAlive(ws) && subscribedAtMs !== undefined) attempts = 0;
    });
    ws.on("error", (e: Error) => {
      if (ws !== socket || closed) return;
      const error = new UpbitWebSocketConnectionError(`Upbit WebSocket ${opened ? "error" : "connect failed"}: ${e.message}`, { cause: e });
      dropCause ??= error;
      emit("error", error);
    });
    ws.on("close", (code: number, reason: Buffer) => onClose(ws, code, reason.toString("utf8")));
  }

  function onOpen(ws: WebSocket): void {
    if (ws !== socket) return;
    opened = true;
    lastRxMs = now();
    pingTimer = timers.setInterval(() => ping(ws), pingIntervalMs);
    armDeadTimer(ws, deadAfterMs);
    log.info("upbit websocket open", { url, attempts });
    flush();
  }

  function ping(ws: WebSocket): void {
    if (ws !== socket || ws.readyState !== WebSocket.OPEN) return;
    if (keepAlive === "ping-frame") {
      ws.ping();
    } else if (budget.waitMs(now()) === 0) {
      // Skipped when the budget is spent: the next period tries again, well inside the dead time.
      budget.record(now());
      ws.send("PING");
    }
  }

  // Re-armed lazily from the last receive time rather than on every frame, which would be costly.
  function armDeadTimer(ws: WebSocket, ms: number): void {
    deadTimer = timers.setTimeout(() => {
      deadTimer = undefined;
      if (ws !== socket) return;
      const silentMs = now() - lastRxMs;
      if (silentMs < deadAfterMs) return armDeadTimer(ws, deadAfterMs - silentMs);
      dropCause = new UpbitWebSocketSilenceError(silentMs);
      log.warn("upbit websocket silent, replacing it", { silentMs });
      ws.terminate();
    }, ms);
  }

  function onAlive(ws: WebSocket): boolean {
    if (ws !== socket) return false;
    const t = now();
    lastRxMs = t;
    // Only frames after the subscription count: they show the new subscription is being served.
    if (subscribedAtMs === undefined) return true;
    lastFrameAtMs = t;
    if (gapFromMs !== undefined) {
      const event: UpbitWebSocketReconnect = { fromMs: gapFromMs, toMs: t, attempts };
      gapFromMs = undefined;
      emit("reconnect", event);
    }
    return true;
  }

  function onFrame(ws: WebSocket, data: WebSocket.RawData): void {
    if (!onAlive(ws)) return;
    for (const message of parseUpbitWebSocketFrame(data)) {
      // A served subscription ends the backoff; an error frame (Upbit closes after it) does not.
      if (message.kind !== "error" && message.kind !== "invalid" && subscribedAtMs !== undefined) attempts = 0;
      switch (message.kind) {
        case "ticker":
          emit("ticker", message.ticker);
          break;
        case "trade":
          emit("trade", message.trade);
          break;
        case "orderbook":
          emit("orderbook", message.orderbook);
          break;
        case "candle":
          emit("candle", message.candle);
          break;
        case "error":
          dropCause ??= message.error;
          emit("error", message.error);
          break;
        case "invalid":
          emit("error", message.error);
          break;
        case "status":
        case "subscriptions":
          break;
      }
    }
  }

  function onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== socket) return;
    socket = undefined;
    clearSocketTimers();
    if (closed) {
      if (closeGraceTimer !== undefined) timers.clearTimeout(closeGraceTimer);
      closeGraceTimer = undefined;
      resolveClosed?.();
      return;
    }
    if (opened) {
      const atMs = now();
      // Nothing can be lost before the subscription was sent, so the gap starts no earlier.
      gapFromMs ??= lastFrameAtMs ?? subscribedAtMs ?? atMs;
      const event: UpbitWebSocketDisconnect = { atMs, lastFrameAtMs, code, reason, ...(dropCause === undefined ? {} : { cause: dropCause }) };
      log.warn("upbit websocket disconnected", { code, reason, cause: dropCause?.message });
      emit("disconnect", event);
    }
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    const exp = Math.min(reconnectMaxMs, reconnectBaseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
    const delayMs = exp / 2 + random() * (exp / 2);
    reconnectTimer = timers.setTimeout(() => {
      reconnectTimer = undefined;
      if (!closed && socket === undefined && desired.length > 0) connect();
    }, delayMs);
  }

  /** Sends the desired subscription if the connection does not have it yet and the budget allows. */
  function flush(): void {
    flushQueued = false;
    const ws = socket;
    if (closed || ws === undefined || ws.readyState !== WebSocket.OPEN || desiredFrame === undefined || desiredFrame === sentFrame) return;
    if (flushTimer !== undefined) return;
    const waitMs = budget.waitMs(now());
    if (waitMs > 0) {
      flushTimer = timers.setTimeout(() => {
        flushTimer = undefined;
        flush();
      }, waitMs);
      return;
    }
    budget.record(now());
    ws.send(desiredFrame);
    sentFrame = desiredFrame;
    subscribedAtMs ??= now();
  }

  function setSubscriptions(subscriptions: readonly UpbitWebSocketSubscription[]): void {
    const next = normalizeUpbitSubscriptions(subscriptions);
    if (closed) return;
    desired = next;
    desiredFrame =
      next.length === 0 ? undefined : JSON.stringify([{ ticket }, ...next, { format }]);
    if (desiredFrame === undefined) {
      if (reconnectTimer !== undefined) timers.clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      const ws = socket;
      if (ws !== undefined) {
        // Detached first, so its close and error events are not taken for a drop.
        socket = undefined;
        clearSocketTimers();
        retiring.add(ws);
        ws.once("close", () => retiring.delete(ws));
        if (ws.readyState === WebSocket.OPEN) ws.close(1000, "no subscriptions");
        else ws.terminate();
      }
      gapFromMs = undefined;
      attempts = 0;
      return;
    }
    if (socket === undefined) {
      if (reconnectTimer === undefined) connect();
      return;
    }
    // A microtask merges a synchronous burst into one frame; the budget spaces out the rest.
    if (!flushQueued) {
      flushQueued = true;
      queueMicrotask(flush);
    }
  }

  function on<E extends keyof UpbitWebSocketEvents>(event: E, listener: UpbitWebSocketEvents[E]): () => void {
    listeners[event].add(listener);
    return () => {
      listeners[event].delete(listener);
    };
  }

  function state(): UpbitWebSocketState {
    if (closed) return "closed";
    if (socket !== undefined) return opened ? "open" : "connecting";
    return reconnectTimer !== undefined ? "waiting" : "idle";
  }

  function close(): Promise<void> {
    if (closing !== undefined) return closing;
    closed = true;
    desired = [];
    desiredFrame = undefined;
    if (reconnectTimer !== undefined) timers.clearTimeout(reconnectTimer);
    reconnectTimer = undefined;
    clearSocketTimers();
    for (const r of retiring) r.terminate();
    const ws = socket;
    if (ws === undefined) {
      closing = Promise.resolve();
      return closing;
    }
    closing = new Promise<void>((resolve) => {
      resolveClosed = resolve;
    });
    if (ws.readyState === WebSocket.OPEN) {
      ws.close(1000, "client closed");
      closeGraceTimer = timers.setTimeout(() => {
        closeGraceTimer = undefined;
        ws.terminate();
      }, CLOSE_GRACE_MS);
    } else {
      ws.terminate();
    }
    return closing;
  }

  return { setSubscriptions, on, state, close };
}
