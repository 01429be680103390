/**
 * One client connection of the simulated Upbit WebSocket: its request handling (subscribe,
 * LIST_SUBSCRIPTIONS, text PING), its subscription state, and what it is sent on each feed tick.
 */
import { WebSocket, type RawData } from "ws";
import { createLogger } from "../shared/logger.js";
import type { SyntheticExchange } from "./exchange-model.js";
import {
  encodeControlFrame,
  encodeDataFrames,
  errorRecord,
  listSubscriptionsRecord,
  STATUS_UP_RECORD,
  withStreamType,
  type StreamType,
  type WsRecord,
} from "./ws-frames.js";
import type { LiveEvent, LiveTradeFeed, WsRecordSource } from "./ws-market-feed.js";
import {
  DEFAULT_ORDERBOOK_DEPTH,
  isCandleType,
  parseOrderbookCode,
  parseRequestFrame,
  WsRequestError,
  type WsCandleType,
  type WsDataType,
  type WsErrorName,
  type WsFormat,
  type WsRequest,
} from "./ws-request-frame.js";

/** Upbit closes with 1000 about 150–180 ms after an error frame (API.md §4.3). */
export const ERROR_CLOSE_DELAY_MS = 150;
/** `{"status":"UP"}` period after a text PING. */
export const STATUS_UP_INTERVAL_MS = 10_000;
/** Candle messages per code are pushed at most once per this interval. */
export const CANDLE_MIN_INTERVAL_MS = 1_000;
/**
 * Bytes a connection may have queued but unsent before it counts as a slow consumer and is
 * dropped: trades cannot be conflated without lying, so the connection ends instead of growing.
 */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const NORMAL_CLOSE = 1000;
const log = createLogger("upbit-sim-websocket", "warn");
const TOO_MANY_MESSAGES_TEXT = "요청 수 제한을 초과하였습니다.";

export interface WsConnectionContext {
  readonly exchange: SyntheticExchange;
  readonly source: WsRecordSource;
  readonly feed: LiveTradeFeed;
  /** Clock, UTC ms. */
  readonly now: () => number;
  /** Close after this long without data sent or received. */
  readonly idleTimeoutMs: number;
  /** Messages the client may send per (clock) second. */
  readonly messageLimitPerSecond: number;
  /** True while the stall fault holds: nothing is sent. */
  readonly isStalled: () => boolean;
  /** Shared counters the API reports in `stats()`. */
  readonly counters: { messagesReceived: number; framesSent: number };
}

interface Subscription {
  readonly type: WsDataType;
  /** Market code, without an orderbook `.N` suffix. */
  readonly market: string;
  readonly depth: number;
  readonly level: number;
  /** False for `is_only_snapshot`: nothing after the snapshot. */
  readonly live: boolean;
  /** Trades at or before this time are in the snapshot; realtime starts after it. */
  readonly realtimeFromMs: number;
  /** Timestamp of the last orderbook sent, to send books only on change. */
  lastBookMs: number | undefined;
  /** A trade changed the forming candle since the last candle message. */
  candleDirty: boolean;
  candleSentAtMs: number;
}

type ListedType = { type: string; codes: string[]; level?: number };

function rawToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export class WsConnection {
  private subscriptions: Subscription[] = [];
  private byMarket = new Map<string, Subscription[]>();
  private listed: ListedType[] = [];
  private format: WsFormat = "DEFAULT";
  private lastActivityMs: number;
  private heartbeatFromMs: number | undefined;
  private rateWindow = -1;
  private rateCount = 0;
  /** Set once an error frame went out: the connection only waits for its close. */
  private closing = false;
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly ctx: WsConnectionContext,
  ) {
    this.lastActivityMs = ctx.now();
    ws.on("message", (data, _isBinary) => {
      try {
        this.onMessage(rawToBuffer(data));
      } catch (e) {
        // A bug while answering one client must not take the simulator down with it.
        log.error("websocket request failed", { error: e instanceof Error ? e.stack : String(e) });
      }
    });
    ws.on("ping", (data) => {
      this.touch();
      if (!this.ctx.isStalled() && ws.readyState === WebSocket.OPEN) ws.pong(data);
    });
    ws.on("pong", () => this.touch());
    ws.on("close", () => {
      if (this.closeTimer) clearTimeout(this.closeTimer);
      this.closeTimer = undefined;
    });
    // A reset by the peer is an ordinary end of a connection; 'close' follows.
    ws.on("error", () => {});
  }

  get subscriptionCount(): number {
    return this.subscriptions.length;
  }

  /** Adds the markets whose live trades this connection needs (trade, ticker, candle). */
  collectTradeMarkets(into: Set<string>): void {
    if (this.closing) return;
    for (const s of this.subscriptions) if (s.live && s.type !== "orderbook") into.add(s.market);
  }

  /** Drop the connection without a close frame (the client sees 1006). */
  terminate(): void {
    this.ws.terminate();
  }

  /** Close with a close frame; resolves when the connection is gone. */
  async close(code: number, reason: string, graceMs: number): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => this.ws.once("close", () => resolve()));
    const fallback = setTimeout(() => this.ws.terminate(), graceMs);
    try {
      this.ws.close(code, reason);
      await closed;
    } finally {
      clearTimeout(fallback);
    }
  }

  private touch(): void {
    this.lastActivityMs = this.ctx.now();
  }

  private onMessage(data: Buffer): void {
    if (this.closing) return;
    this.ctx.counters.messagesReceived++;
    this.touch();
    const nowMs = this.ctx.now();
    const window = Math.floor(nowMs / 1_000);
    if (window !== this.rateWindow) {
      this.rateWindow = window;
      this.rateCount = 0;
    }
    if (++this.rateCount > this.ctx.messageLimitPerSecond) {
      this.fail("TOO_MANY_REQUESTS", TOO_MANY_MESSAGES_TEXT);
      return;
    }
    const text = data.toString("utf8");
    if (text.trim() === "PING") {
      this.sendControl(STATUS_UP_RECORD);
      this.heartbeatFromMs = nowMs;
      return;
    }
    let request: WsRequest;
    try {
      request = parseRequestFrame(text);
    } catch (e) {
      if (!(e instanceof WsRequestError)) throw e;
      this.fail(e.errorName, e.message);
      return;
    }
    if (request.format !== undefined) this.format = request.format;
    if (request.kind === "list-subscriptions") {
      this.sendControl(listSubscriptionsRecord(request.ticket, this.listed));
      return;
    }
    // A subscription without a format object is served in DEFAULT, whatever came before.
    if (request.format === undefined) this.format = "DEFAULT";
    this.subscribe(request, nowMs);
  }

  /** Send Upbit's error frame, then close normally a moment later. */
  private fail(name: WsErrorName, message: string): void {
    this.sendControl(errorRecord(name, message));
    this.closing = true;
    this.closeTimer = setTimeout(() => {
      this.closeTimer = undefined;
      if (this.ws.readyState === WebSocket.OPEN) this.ws.close(NORMAL_CLOSE);
    }, ERROR_CLOSE_DELAY_MS);
  }

  private subscribe(request: Extract<WsRequest, { kind: "subscribe" }>, nowMs: number): void {
    const subscriptions: Subscription[] = [];
    const snapshotWanted = new Set<Subscription>();
    const listed: ListedType[] = [];
    const seen = new Set<string>();
    for (const t of request.types) {
      const accepted: string[] = [];
      for (const code of t.codes) {
        const { market, depth } =
          t.type === "orderbook" ? parseOrderbookCode(code) : { market: code, depth: DEFAULT_ORDERBOOK_DEPTH };
        // Upbit ignores lower-case and unknown codes without an error (API.md §4.1).
        if (market !== market.toUpperCase() || !this.ctx.exchange.market(market)) continue;
        const key = `${t.type}|${market}|${t.level}`;
        if (seen.has(key)) continue;
        seen.add(key);
        accepted.push(code);
        const sub: Subscription = {
          type: t.type,
          market,
          depth,
          level: t.level,
          live: !t.isOnlySnapshot,
          realtimeFromMs: nowMs,
          lastBookMs: undefined,
          candleDirty: false,
          candleSentAtMs: Number.NEGATIVE_INFINITY,
        };
        subscriptions.push(sub);
        if (!t.isOnlyRealtime) snapshotWanted.add(sub);
      }
      if (accepted.length > 0) {
        listed.push(t.type === "orderbook" ? { type: t.type, codes: accepted, level: t.level } : { type: t.type, codes: accepted });
      }
    }
    this.subscriptions = subscriptions.filter((s) => s.live);
    this.byMarket = new Map();
    for (const s of this.subscriptions) {
      const list = this.byMarket.get(s.market);
      if (list) list.push(s);
      else this.byMarket.set(s.market, [s]);
      if (s.type !== "orderbook") this.ctx.feed.track(s.market, nowMs);
    }
    this.listed = listed;

    const snapshots: WsRecord[] = [];
    for (const s of subscriptions) {
      if (!snapshotWanted.has(s)) continue;
      const record = this.currentRecord(s, nowMs);
      if (record === undefined) continue;
      if (s.type === "orderbook") s.lastBookMs = record.timestamp as number;
      if (isCandleType(s.type)) s.candleSentAtMs = nowMs;
      snapshots.push(withStreamType(record, "SNAPSHOT"));
    }
    this.sendData(snapshots);
  }

  /** The state of a subscription's stream at `atMs`, as its snapshot message would show it. */
  private currentRecord(s: Subscription, atMs: number): WsRecord | undefined {
    const source = this.ctx.source;
    if (s.type === "ticker") return source.ticker(s.market, atMs, atMs);
    if (s.type === "trade") return source.lastTrade(s.market, atMs);
    if (s.type === "orderbook") return source.orderbook(s.market, atMs, s.depth, s.level);
    return source.candle(s.type as WsCandleType, s.market, atMs);
  }

  /** One feed tick: idle check, heartbeat, and the live messages for `events` and books/candles. */
  onTick(nowMs: number, events: readonly LiveEvent[]): void {
    if (this.closing || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ctx.isStalled()) {
      // A stalled server keeps sockets open and silent; the client has to notice by itself.
      // The idle clock stands still meanwhile, so lifting the stall does not drop everybody.
      this.lastActivityMs = nowMs;
      return;
    }
    if (nowMs - this.lastActivityMs >= this.ctx.idleTimeoutMs) {
      // Upbit drops idle sockets without a close frame (1006 on the wire, API.md §4.3).
      this.terminate();
      return;
    }
    if (this.heartbeatFromMs !== undefined && nowMs - this.heartbeatFromMs >= STATUS_UP_INTERVAL_MS) {
      this.heartbeatFromMs = nowMs;
      this.sendControl(STATUS_UP_RECORD);
    }
    if (this.subscriptions.length === 0) return;
    const out: WsRecord[] = [];
    const realtime = (r: WsRecord | undefined): void => {
      if (r !== undefined) out.push(withStreamType(r, "REALTIME" satisfies StreamType));
    };
    for (const ev of events) {
      const subs = this.byMarket.get(ev.code);
      if (subs === undefined) continue;
      for (const s of subs) {
        if (ev.atMs <= s.realtimeFromMs) continue;
        if (ev.kind === "trade") {
          if (s.type === "trade") realtime(this.ctx.source.trade(ev.trade, nowMs));
          else if (isCandleType(s.type)) s.candleDirty = true;
        } else if (s.type === "ticker") {
          realtime(this.ctx.source.ticker(ev.code, ev.atMs, nowMs));
        }
      }
    }
    for (const s of this.subscriptions) {
      if (s.type === "orderbook") {
        const changedAt = this.ctx.source.orderbookTimestamp(s.market, nowMs);
        if (changedAt !== undefined && changedAt !== s.lastBookMs) {
          s.lastBookMs = changedAt;
          realtime(this.ctx.source.orderbook(s.market, nowMs, s.depth, s.level));
        }
      } else if (isCandleType(s.type) && s.candleDirty && nowMs - s.candleSentAtMs >= CANDLE_MIN_INTERVAL_MS) {
        s.candleDirty = false;
        s.candleSentAtMs = nowMs;
        realtime(this.ctx.source.candle(s.type, s.market, nowMs));
      }
    }
    this.sendData(out);
  }

  private sendData(records: readonly WsRecord[]): void {
    if (records.length === 0 || this.ctx.isStalled()) return;
    for (const frame of encodeDataFrames(records, this.format)) if (!this.sendFrame(frame)) return;
  }

  private sendControl(record: WsRecord): void {
    if (this.ctx.isStalled()) return;
    this.sendFrame(encodeControlFrame(record, this.format));
  }

  /** Sends one binary frame (Upbit sends every frame binary); false once the connection is gone. */
  private sendFrame(frame: Buffer): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.terminate();
      return false;
    }
    this.ws.send(frame, { binary: true });
    this.ctx.counters.framesSent++;
    this.touch();
    return true;
  }
}
