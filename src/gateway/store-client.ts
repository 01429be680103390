import type { MessageInitShape } from "@bufbuild/protobuf";
import { type ServiceError, status } from "@grpc/grpc-js";
import {
  type GetRealtimeRequestSchema,
  type GetRealtimeResponse,
  type PutRealtimeRequestSchema,
  type ReadCandlesResponse,
  StorageService,
  type StatsResponse,
} from "../gen/backbone/storage/v1/storage_pb.js";
import { encodeCandleBatchFields, type EncodedCandles } from "../shared/candle-batch-wire.js";
import { type CandleColumns, columnsLength, concatColumns, sliceColumns } from "../shared/candle-columns.js";
import { columnsFromWire, columnsToWire } from "../shared/candle-columns-wire.js";
import { createGrpcClient, type GrpcClient } from "../shared/grpc/client.js";
import type { Interval } from "../shared/intervals.js";
import { decodeReadCandlesResponse } from "../shared/read-candles-decoding.js";
import { MAX_LATEST_CANDLES } from "../shared/storage-limits.js";
import { type Timeframe, timeframeToProto } from "../shared/timeframe.js";

/**
 * A ReadCandles answer asked for `as_candle_batch` as encoded candles. A daemon that answered with
 * raw columns instead (one that predates the option) is encoded here, so a version skew costs
 * time, never candles.
 */
export function encodedPart(m: ReadCandlesResponse): EncodedCandles {
  if (m.candleBatch.length > 0 || m.count === 0) return { count: m.count, lastTimeMs: Number(m.lastTimeMs), bytes: m.candleBatch };
  return encodeCandleBatchFields(columnsFromWire(m.candles, "candles"));
}

/** The storage daemon could not be reached or did not answer in time. */
export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
}

export function isStoreUnavailableError(e: unknown): e is StoreUnavailableError {
  return e instanceof StoreUnavailableError;
}

/** Candles of one market and timeframe with the intervals their writer verified complete. */
export interface CandleSegmentToWrite {
  market: string;
  timeframe: Timeframe;
  candles: CandleColumns;
  verified: readonly Interval[];
}

export interface StoreCallOptions {
  signal?: AbortSignal;
}

/** How long one store call may take before the daemon counts as unavailable. */
const STORE_CALL_TIMEOUT_MS = 10_000;

/** Codes that mean "the daemon is not there right now", as opposed to "it refused the request". */
const UNAVAILABLE_CODES = new Set<number>([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.CANCELLED]);

/**
 * HTTP/2 flow-control window of the daemon connection: a default 10,000-candle batch (~540 KB)
 * streams without waiting for a window update, but the daemon cannot run far ahead of what the
 * gateway forwards. Bytes parked in the gateway outlive V8's young generation, and then every
 * ~64 MB of them costs a full mark-compact: 10-20 ms event-loop blocks during bulk fetches (the
 * bulk bench counted 24-36 own-work blocks of 10 ms or more over three 10M fetches with a 16 MiB
 * window, 0-2 with this one, and no slower fetches; half of it was slower).
 */
const STORE_FLOW_CONTROL_WINDOW_BYTES = 1024 * 1024;

/**
 * The gateway's view of the storage daemon: typed calls in domain terms. Transport failures become
 * `StoreUnavailableError`, so callers can fall back to upstream; the channel reconnects by itself
 * when the daemon comes back.
 */
export class StoreClient {
  private readonly client: GrpcClient<typeof StorageService>;
  private readonly writeListeners = new Set<(segment: CandleSegmentToWrite) => void>();

  constructor(address: string) {
    this.client = createGrpcClient(
      StorageService,
      address,
      {
        // Reconnect quickly after a sidecar restart instead of grpc-js's default backoff up to 2 min.
        "grpc.initial_reconnect_backoff_ms": 100,
        "grpc.max_reconnect_backoff_ms": 1_000,
        "grpc-node.flow_control_window": STORE_FLOW_CONTROL_WINDOW_BYTES,
      },
      undefined,
      { readCandles: decodeReadCandlesResponse },
    );
  }

  /** What of `[start, end)` is not verified, what is, and how long the daemon keeps this timeframe (0: forever). */
  async missing(
    market: string,
    tf: Timeframe,
    start: number,
    end: number,
    o: StoreCallOptions = {},
  ): Promise<{ missing: Interval[]; covered: Interval[]; retentionKeepMs: number }> {
    const res = await this.call((opts) => this.client.getMissing({ market, timeframe: timeframeToProto(tf), startMs: BigInt(start), endMs: BigInt(end) }, opts), o);
    const toDomain = (i: { startMs: bigint; endMs: bigint }): Interval => ({ start: Number(i.startMs), end: Number(i.endMs) });
    return { missing: res.missing.map(toDomain), covered: res.covered.map(toDomain), retentionKeepMs: Number(res.retentionKeepMs) };
  }

  /** Every stored candle with open time in `[start, end)`, ascending. */
  async read(market: string, tf: Timeframe, start: number, end: number, o: StoreCallOptions = {}): Promise<CandleColumns[]> {
    return this.call(async (opts) => {
      const parts: CandleColumns[] = [];
      const stream = this.client.readCandles({ market, timeframe: timeframeToProto(tf), startMs: BigInt(start), endMs: BigInt(end) }, opts);
      for await (const m of stream) {
        const c = columnsFromWire(m.candles, "candles");
        if (columnsLength(c) > 0) parts.push(c);
      }
      return parts;
    }, o);
  }

  /**
   * Every stored candle with open time in `[start, end)`, ascending, as the daemon streams it and
   * already encoded as public CandleBatch fields (forwarded by FetchCandleRange without decoding):
   * the next part is read only when the caller asks, so a slow consumer holds back the daemon's
   * scan instead of buffering it. No overall deadline: a bulk read may take minutes.
   */
  async *readEncodedStream(
    market: string,
    tf: Timeframe,
    start: number,
    end: number,
    o: StoreCallOptions & { batchSize?: number; firstBatchSize?: number } = {},
  ): AsyncGenerator<EncodedCandles> {
    const request = {
      market,
      timeframe: timeframeToProto(tf),
      startMs: BigInt(start),
      endMs: BigInt(end),
      batchSize: o.batchSize ?? 0,
      firstBatchSize: o.firstBatchSize ?? 0,
      asCandleBatch: true,
    };
    const stream = this.client.readCandles(request, o.signal ? { signal: o.signal } : {});
    try {
      for await (const m of stream) if (m.count > 0) yield encodedPart(m);
    } catch (e) {
      throw this.unavailable(e, o) ?? e;
    }
  }

  /** The `count` newest stored candles with open time in `[start, end)`, ascending. */
  async latest(market: string, tf: Timeframe, start: number, end: number, count: number, o: StoreCallOptions = {}): Promise<CandleColumns> {
    if (count > MAX_LATEST_CANDLES) {
      // More than one unary answer holds: stream the range and keep its newest `count`.
      const all = concatColumns(await this.read(market, tf, start, end, o));
      const n = columnsLength(all);
      return sliceColumns(all, Math.max(0, n - count), n);
    }
    const res = await this.call(
      (opts) => this.client.getLatestCandles({ market, timeframe: timeframeToProto(tf), startMs: BigInt(start), endMs: BigInt(end), count }, opts),
      o,
    );
    return columnsFromWire(res.candles, "candles");
  }

  /** Hears of every candle write, before it is sent and once it is done (or failed): caches of store contents drop what it touches. */
  onWrite(listener: (segment: CandleSegmentToWrite) => void): () => void {
    this.writeListeners.add(listener);
    return () => this.writeListeners.delete(listener);
  }

  /** Writes candles and the coverage they verify, all or nothing. */
  async write(segments: readonly CandleSegmentToWrite[], o: StoreCallOptions = {}): Promise<void> {
    const tell = () => segments.forEach((s) => this.writeListeners.forEach((l) => l(s)));
    tell();
    try {
      await this.sendWrite(segments, o);
    } finally {
      tell();
    }
  }

  private async sendWrite(segments: readonly CandleSegmentToWrite[], o: StoreCallOptions): Promise<void> {
    await this.call(
      (opts) =>
        this.client.writeCandles(
          {
            segments: segments.map((s) => ({
              market: s.market,
              timeframe: timeframeToProto(s.timeframe),
              candles: columnsToWire(s.candles),
              verified: s.verified.map((i) => ({ startMs: BigInt(i.start), endMs: BigInt(i.end) })),
            })),
          },
          opts,
        ),
      o,
    );
  }

  async putRealtime(init: MessageInitShape<typeof PutRealtimeRequestSchema>, o: StoreCallOptions = {}): Promise<void> {
    await this.call((opts) => this.client.putRealtime(init, opts), o);
  }

  async getRealtime(init: MessageInitShape<typeof GetRealtimeRequestSchema>, o: StoreCallOptions = {}): Promise<GetRealtimeResponse> {
    return this.call((opts) => this.client.getRealtime(init, opts), o);
  }

  async stats(o: StoreCallOptions = {}): Promise<StatsResponse> {
    return this.call((opts) => this.client.stats({}, opts), o);
  }

  close(): void {
    this.client.close();
  }

  private async call<T>(fn: (opts: { deadline: Date; signal?: AbortSignal }) => Promise<T>, o: StoreCallOptions): Promise<T> {
    try {
      return await fn({ deadline: new Date(Date.now() + STORE_CALL_TIMEOUT_MS), ...(o.signal ? { signal: o.signal } : {}) });
    } catch (e) {
      throw this.unavailable(e, o) ?? e;
    }
  }

  /** The error a transport failure becomes; undefined for anything else (and after the caller cancelled). */
  private unavailable(e: unknown, o: StoreCallOptions): StoreUnavailableError | undefined {
    if (o.signal?.aborted || !UNAVAILABLE_CODES.has((e as Partial<ServiceError>).code ?? -1)) return undefined;
    return new StoreUnavailableError(`storage daemon unavailable: ${(e as Error).message}`);
  }
}
