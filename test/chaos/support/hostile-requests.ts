/**
 * Hostile requests for the public API, as bytes on the wire, each with the statuses that are the
 * right answer to it and (for INVALID_ARGUMENT) the field its message must name. Generated with
 * fast-check from a fixed seed, so a run can be repeated: real request messages with exactly one
 * defect (a malformed or unlisted market, an unknown enum value, a count of 2^32-1, a negative or
 * far-future int64 time, ...), random bytes, strings that are not UTF-8, messages above the size
 * limit, methods that do not exist, and stream requests no stream should start from.
 *
 * Every defect is one the gateway must refuse before any upstream call or store write: the
 * scenario checks the store did not change.
 */
import { create, type DescMessage, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import fc from "fast-check";
import {
  FetchCandleRangeRequestSchema,
  GetCandlesRequestSchema,
  GetOrderbooksRequestSchema,
  GetStatsRequestSchema,
  GetTickersRequestSchema,
  GetTradesRequestSchema,
  ListMarketsRequestSchema,
  MarketDataService,
  type Priority,
  StreamCandlesRequestSchema,
  StreamOrderbooksRequestSchema,
  StreamTickersRequestSchema,
  StreamTradesRequestSchema,
  type Timeframe,
} from "../../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { isMarketCode } from "../../../src/shared/market-code.js";
import { wireTag, WIRE_LEN } from "../../../src/shared/protobuf-wire.js";

export interface HostileCall {
  /** What kind of hostility, for the report. */
  readonly category: string;
  /** The defect, for failure messages. */
  readonly defect: string;
  /** The gRPC path called. */
  readonly path: string;
  readonly streaming: boolean;
  /** The request message's bytes (no gRPC framing). */
  readonly bytes: Uint8Array;
  /** The right answers. */
  readonly expected: readonly status[];
  /** For INVALID_ARGUMENT: the start of the field its message must name (`market`, `markets[`). */
  readonly field?: string;
}

const SERVICE = MarketDataService.typeName;
const path = (method: string) => `/${SERVICE}/${method}`;
const DAY_MS = 86_400_000;
const EARLIEST_MS = Date.UTC(2017, 0, 1);
const UINT32_MAX = 2 ** 32 - 1;
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Proto enum ranges: Timeframe 1..13, Priority 0..4 (0 = unspecified, allowed). */
const TIMEFRAMES = { min: 1, max: 13 };
/** Upbit's WebSocket serves candles up to 240 minutes (Timeframe 9); day and longer are refused in streams. */
const STREAM_CANDLE_TIMEFRAMES = { min: 1, max: 9 };

const { INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED, UNIMPLEMENTED, OK } = status;

function encode<D extends DescMessage>(schema: D, init: MessageInitShape<D>): Uint8Array {
  return toBinary(schema, create(schema, init));
}

/** A length-delimited field carrying raw bytes (for strings that are not UTF-8). */
function rawLenField(field: number, bytes: readonly number[]): Uint8Array {
  const header: number[] = [];
  for (let v = wireTag(field, WIRE_LEN); ; v >>>= 7) {
    if (v < 0x80) {
      header.push(v);
      break;
    }
    header.push((v & 0x7f) | 0x80);
  }
  let n = bytes.length;
  for (;;) {
    if (n < 0x80) {
      header.push(n);
      break;
    }
    header.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  return Uint8Array.from([...header, ...bytes]);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const ascii = (s: string) => [...Buffer.from(s, "latin1")];

/** Strings that are no market code: wrong case, separators, spaces, other scripts, too long. */
const malformedMarket = fc.oneof(
  fc.constantFrom("", "krw-btc", "KRW_BTC", "KRW-", "-BTC", "KRW-BTC ", " KRW-BTC", "KRW--BTC", "KRW-비트코인", "K-BTC", "KRW-BTC\u0000", "KRW-BTC\n"),
  fc.string({ maxLength: 40 }).filter((s) => !isMarketCode(s)),
  fc.integer({ min: 21, max: 4_000 }).map((n) => `KRW-${"A".repeat(n)}`),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }).filter((s) => !isMarketCode(s)),
);

/** Well-formed codes Upbit does not list. */
function unlistedMarket(listed: ReadonlySet<string>) {
  return fc.stringMatching(/^[A-Z0-9]{3,12}$/).map((base) => `KRW-ZZ${base}`).filter((c) => isMarketCode(c) && !listed.has(c));
}

const unknownTimeframe = fc.oneof(fc.constant(0), fc.integer({ min: 14, max: INT32_MAX }), fc.integer({ min: -(2 ** 31), max: -1 }));
const unknownPriority = fc.oneof(fc.integer({ min: 5, max: INT32_MAX }), fc.integer({ min: -(2 ** 31), max: -1 }));
const beforeUpbit = fc.oneof(fc.constant(INT64_MIN), fc.constant(-1n), fc.bigInt({ min: INT64_MIN, max: BigInt(EARLIEST_MS - 1) }));
/** Beyond the end of any forming bucket (a year's included), which a request may name. */
const farFuture = (nowMs: number) => fc.oneof(fc.constant(INT64_MAX), fc.bigInt({ min: BigInt(nowMs + 400 * DAY_MS), max: INT64_MAX }));
/** A past time Upbit has candles for. */
const pastTime = (nowMs: number) => fc.integer({ min: Date.UTC(2023, 0, 1), max: nowMs - DAY_MS });

/** GetCandles with one defect. */
function candleCalls(listed: readonly string[], nowMs: number): fc.Arbitrary<HostileCall> {
  const listedSet = new Set(listed);
  const base = fc.record({
    market: fc.constantFrom(...listed),
    timeframe: fc.integer(TIMEFRAMES),
    count: fc.integer({ min: 1, max: 200 }),
    priority: fc.integer({ min: 0, max: 4 }),
  });
  type Base = { market: string; timeframe: number; count: number; priority: number };
  const call = (defect: string, init: MessageInitShape<typeof GetCandlesRequestSchema>, expected: status, field?: string): HostileCall => ({
    category: "GetCandles, one defect",
    defect,
    path: path("GetCandles"),
    streaming: false,
    bytes: encode(GetCandlesRequestSchema, init),
    expected: [expected],
    ...(field === undefined ? {} : { field }),
  });
  const typed = (b: Base) => ({ ...b, timeframe: b.timeframe as Timeframe, priority: b.priority as Priority });
  return fc.oneof(
    fc.tuple(base, malformedMarket).map(([b, market]) => call(`market ${JSON.stringify(market).slice(0, 40)}`, { ...typed(b), market }, INVALID_ARGUMENT, "market")),
    fc.tuple(base, unlistedMarket(listedSet)).map(([b, market]) => call(`unlisted ${market}`, { ...typed(b), market }, NOT_FOUND)),
    fc.tuple(base, unknownTimeframe).map(([b, tf]) => call(`timeframe ${tf}`, { ...typed(b), timeframe: tf as Timeframe }, INVALID_ARGUMENT, "timeframe")),
    fc.tuple(base, unknownPriority).map(([b, p]) => call(`priority ${p}`, { ...typed(b), priority: p as Priority }, INVALID_ARGUMENT, "priority")),
    fc.tuple(base, fc.oneof(fc.constant(UINT32_MAX), fc.integer({ min: 20_001, max: UINT32_MAX }))).map(([b, count]) => call(`count ${count}`, { ...typed(b), count }, RESOURCE_EXHAUSTED)),
    base.map((b) => call("count 0 without start_ms", { ...typed(b), count: 0 }, INVALID_ARGUMENT, "count")),
    fc.tuple(base, beforeUpbit).map(([b, start]) => call(`start_ms ${start}`, { ...typed(b), count: 0, startMs: start }, INVALID_ARGUMENT, "start_ms")),
    fc.tuple(base, fc.oneof(beforeUpbit, farFuture(nowMs))).map(([b, end]) => call(`end_ms ${end}`, { ...typed(b), endMs: end }, INVALID_ARGUMENT, "end_ms")),
    fc.tuple(base, pastTime(nowMs), fc.integer({ min: 0, max: 10 * DAY_MS })).map(([b, end, back]) =>
      call(`start_ms ${back} ms after end_ms`, { ...typed(b), count: 0, startMs: BigInt(end + back), endMs: BigInt(end) }, INVALID_ARGUMENT, "start_ms"),
    ),
    fc.tuple(base, pastTime(nowMs)).map(([b, start]) => call("count and start_ms both", { ...typed(b), startMs: BigInt(start), endMs: BigInt(start + DAY_MS) }, INVALID_ARGUMENT, "count")),
    fc.tuple(base, fc.integer({ min: 20, max: 300 })).map(([b, days]) =>
      call(`range of ${days} days of 1m`, { ...typed(b), timeframe: 2 as Timeframe, count: 0, startMs: BigInt(nowMs - days * DAY_MS), endMs: BigInt(nowMs - DAY_MS) }, RESOURCE_EXHAUSTED),
    ),
  );
}

/** GetTickers, GetOrderbooks, GetTrades and ListMarkets with one defect. */
function snapshotCalls(listed: readonly string[], nowMs: number): fc.Arbitrary<HostileCall> {
  const listedSet = new Set(listed);
  const category = "snapshots, one defect";
  const markets = fc.uniqueArray(fc.constantFrom(...listed), { minLength: 1, maxLength: 20 });
  const priority = fc.integer({ min: 0, max: 4 }).map((p) => p as Priority);
  const withOne = (bad: fc.Arbitrary<string>) =>
    fc.tuple(markets, bad, fc.nat()).map(([ms, b, at]) => {
      const i = at % (ms.length + 1);
      return { list: [...ms.slice(0, i), b, ...ms.slice(i)], index: i };
    });
  const call = (method: string, defect: string, bytes: Uint8Array, expected: status, field?: string): HostileCall => ({
    category,
    defect,
    path: path(method),
    streaming: false,
    bytes,
    expected: [expected],
    ...(field === undefined ? {} : { field }),
  });
  return fc.oneof(
    fc.tuple(withOne(malformedMarket), priority).map(([m, p]) =>
      call("GetTickers", `markets[${m.index}] malformed`, encode(GetTickersRequestSchema, { markets: m.list, priority: p }), INVALID_ARGUMENT, `markets[${m.index}]`),
    ),
    fc.tuple(withOne(unlistedMarket(listedSet)), priority).map(([m, p]) =>
      call("GetTickers", `markets[${m.index}] unlisted`, encode(GetTickersRequestSchema, { markets: m.list, priority: p }), NOT_FOUND),
    ),
    fc.integer({ min: 2_001, max: 3_000 }).map((n) =>
      call("GetTickers", `${n} markets`, encode(GetTickersRequestSchema, { markets: Array.from({ length: n }, (_, i) => `KRW-Z${i}`) }), INVALID_ARGUMENT, "markets"),
    ),
    priority.map((p) => call("GetTickers", "no markets, no quote currencies", encode(GetTickersRequestSchema, { priority: p }), INVALID_ARGUMENT, "markets")),
    fc.tuple(markets, fc.constantFrom("krw", "K", "KRW1", "", "KRWKRWKRWKRW", "원")).map(([ms, q]) =>
      call("GetTickers", `quote ${q}`, encode(GetTickersRequestSchema, { markets: ms, quoteCurrencies: [q] }), INVALID_ARGUMENT, "quote_currencies[0]"),
    ),
    fc.tuple(markets, unknownPriority).map(([ms, p]) => call("GetTickers", `priority ${p}`, encode(GetTickersRequestSchema, { markets: ms, priority: p as Priority }), INVALID_ARGUMENT, "priority")),
    fc.tuple(markets, fc.integer({ min: 31, max: UINT32_MAX })).map(([ms, depth]) =>
      call("GetOrderbooks", `depth ${depth}`, encode(GetOrderbooksRequestSchema, { markets: ms, depth }), INVALID_ARGUMENT, "depth"),
    ),
    fc.tuple(withOne(malformedMarket), priority).map(([m, p]) =>
      call("GetOrderbooks", `markets[${m.index}] malformed`, encode(GetOrderbooksRequestSchema, { markets: m.list, priority: p }), INVALID_ARGUMENT, `markets[${m.index}]`),
    ),
    fc.tuple(markets, fc.integer({ min: 10_001, max: UINT32_MAX })).map(([ms, count]) =>
      call("GetTrades", `count ${count}`, encode(GetTradesRequestSchema, { markets: ms, count }), INVALID_ARGUMENT, "count"),
    ),
    fc.tuple(markets, beforeUpbit).map(([ms, start]) =>
      call("GetTrades", `start_ms ${start}`, encode(GetTradesRequestSchema, { markets: ms.slice(0, 1), count: 10, startMs: start }), INVALID_ARGUMENT, "start_ms"),
    ),
    fc.tuple(markets, fc.integer({ min: Date.UTC(2017, 0, 1), max: nowMs - 9 * DAY_MS })).map(([ms, end]) =>
      call("GetTrades", "end_ms older than Upbit keeps", encode(GetTradesRequestSchema, { markets: ms.slice(0, 1), count: 10, endMs: BigInt(end) }), INVALID_ARGUMENT, "end_ms"),
    ),
    fc.constantFrom("krw", "", "K", "KRW-BTC").map((q) => call("ListMarkets", `quote ${q}`, encode(ListMarketsRequestSchema, { quoteCurrencies: [q] }), INVALID_ARGUMENT, "quote_currencies[0]")),
    unknownPriority.map((p) => call("ListMarkets", `priority ${p}`, encode(ListMarketsRequestSchema, { priority: p as Priority }), INVALID_ARGUMENT, "priority")),
  );
}

/** Every method of the public service, with its request type. */
const METHODS: readonly { name: string; schema: DescMessage; streaming: boolean }[] = [
  { name: "ListMarkets", schema: ListMarketsRequestSchema, streaming: false },
  { name: "GetCandles", schema: GetCandlesRequestSchema, streaming: false },
  { name: "GetTickers", schema: GetTickersRequestSchema, streaming: false },
  { name: "GetOrderbooks", schema: GetOrderbooksRequestSchema, streaming: false },
  { name: "GetTrades", schema: GetTradesRequestSchema, streaming: false },
  { name: "GetStats", schema: GetStatsRequestSchema, streaming: false },
  { name: "FetchCandleRange", schema: FetchCandleRangeRequestSchema, streaming: true },
  { name: "StreamTickers", schema: StreamTickersRequestSchema, streaming: true },
  { name: "StreamOrderbooks", schema: StreamOrderbooksRequestSchema, streaming: true },
  { name: "StreamTrades", schema: StreamTradesRequestSchema, streaming: true },
  { name: "StreamCandles", schema: StreamCandlesRequestSchema, streaming: true },
];

/**
 * Random bytes to any method. Bytes the request type cannot decode are INVALID_ARGUMENT naming
 * `request`; bytes that happen to decode are judged by the handler (they never name a listed
 * market, so nothing is fetched): any refusal, or OK for the requests that take no input.
 */
function randomByteCalls(): fc.Arbitrary<HostileCall> {
  return fc.tuple(fc.constantFrom(...METHODS), fc.uint8Array({ minLength: 1, maxLength: 300 })).map(([m, bytes]) => {
    let decodes = true;
    try {
      fromBinary(m.schema, bytes);
    } catch {
      decodes = false;
    }
    return {
      category: "random bytes",
      defect: `${bytes.length} random bytes ${decodes ? "(decodable)" : "(undecodable)"}`,
      path: path(m.name),
      streaming: m.streaming,
      bytes,
      expected: decodes ? [OK, INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED] : [INVALID_ARGUMENT],
      ...(decodes ? {} : { field: "request" }),
    };
  });
}

/** Byte sequences that are not UTF-8: a stray continuation, truncated sequences, a surrogate, overlong forms, 0xff. */
const NOT_UTF8: readonly (readonly number[])[] = [[0xff], [0x80], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80]];

/** A string field holding bytes that are not UTF-8, next to otherwise valid fields. */
function badUtf8Calls(listed: readonly string[]): fc.Arbitrary<HostileCall> {
  const targets: readonly { method: string; field: number; rest: (market: string) => Uint8Array; streaming: boolean }[] = [
    { method: "GetCandles", field: 1, rest: () => encode(GetCandlesRequestSchema, { timeframe: 2 as Timeframe, count: 10 }), streaming: false },
    { method: "GetTickers", field: 1, rest: (m) => encode(GetTickersRequestSchema, { markets: [m] }), streaming: false },
    { method: "GetTickers", field: 3, rest: (m) => encode(GetTickersRequestSchema, { markets: [m] }), streaming: false },
    { method: "GetOrderbooks", field: 1, rest: (m) => encode(GetOrderbooksRequestSchema, { markets: [m] }), streaming: false },
    { method: "GetTrades", field: 1, rest: () => encode(GetTradesRequestSchema, { count: 5 }), streaming: false },
    { method: "ListMarkets", field: 1, rest: () => new Uint8Array(0), streaming: false },
    { method: "FetchCandleRange", field: 1, rest: () => encode(FetchCandleRangeRequestSchema, { timeframe: 2 as Timeframe, startMs: BigInt(Date.UTC(2024, 0, 1)), endMs: BigInt(Date.UTC(2024, 0, 2)) }), streaming: true },
    { method: "StreamTrades", field: 1, rest: (m) => encode(StreamTradesRequestSchema, { markets: [m] }), streaming: true },
    { method: "StreamTickers", field: 1, rest: (m) => encode(StreamTickersRequestSchema, { markets: [m] }), streaming: true },
    { method: "StreamCandles", field: 1, rest: () => encode(StreamCandlesRequestSchema, { timeframe: 2 as Timeframe }), streaming: true },
  ];
  return fc
    .tuple(fc.constantFrom(...targets), fc.constantFrom(...NOT_UTF8), fc.constantFrom(...listed), fc.constantFrom("KRW-", "", "KRW-BT"), fc.constantFrom("BTC", "", "C"))
    .map(([t, bad, market, before, after]) => ({
      category: "strings that are not UTF-8",
      defect: `${t.method} field ${t.field}: ${before}<${bad.map((b) => b.toString(16)).join(" ")}>${after}`,
      path: path(t.method),
      streaming: t.streaming,
      bytes: concat(rawLenField(t.field, [...ascii(before), ...bad, ...ascii(after)]), t.rest(market)),
      expected: [INVALID_ARGUMENT],
      field: "request",
    }));
}

/** Requests larger than `maxBytes`: a huge market string or list. RESOURCE_EXHAUSTED before decoding. */
function oversizedCalls(maxBytes: number): fc.Arbitrary<HostileCall> {
  return fc.tuple(fc.constantFrom(...METHODS.filter((m) => m.name !== "GetStats")), fc.integer({ min: 1, max: 64 * 1024 }), fc.boolean()).map(([m, extra, manyMarkets]) => {
    const size = maxBytes + extra;
    const bytes = manyMarkets
      ? concat(...Array.from({ length: Math.ceil(size / 10) }, () => rawLenField(1, ascii("KRW-BTC1"))))
      : rawLenField(1, new Array<number>(size).fill(0x41));
    return { category: "oversized", defect: `${m.name} of ${bytes.length} bytes`, path: path(m.name), streaming: m.streaming, bytes, expected: [RESOURCE_EXHAUSTED] };
  });
}

/** Methods that do not exist, including the storage daemon's internal service on the public port. */
function unknownMethodCalls(): fc.Arbitrary<HostileCall> {
  return fc
    .oneof(
      fc.stringMatching(/^[A-Za-z]{1,30}$/).filter((n) => !METHODS.some((m) => m.name === n)).map((n) => path(n)),
      fc.constantFrom("/backbone.storage.v1.StorageService/WriteCandles", "/backbone.storage.v1.StorageService/Maintain", "/backbone.storage.v1.StorageService/Stats"),
      fc.stringMatching(/^\/[a-z.]{1,20}\/[A-Za-z]{1,20}$/),
    )
    .chain((p) => fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ category: "unknown methods", defect: p, path: p, streaming: false, bytes, expected: [UNIMPLEMENTED] })));
}

/** Stream requests with one defect: every one must end at once with the right status, no stream started. */
function streamCalls(listed: readonly string[], nowMs: number): fc.Arbitrary<HostileCall> {
  const listedSet = new Set(listed);
  const markets = fc.uniqueArray(fc.constantFrom(...listed), { minLength: 1, maxLength: 10 });
  const call = (method: string, defect: string, bytes: Uint8Array, expected: status, field?: string): HostileCall => ({
    category: "stream requests, one defect",
    defect,
    path: path(method),
    streaming: true,
    bytes,
    expected: [expected],
    ...(field === undefined ? {} : { field }),
  });
  const range = fc.tuple(pastTime(nowMs), fc.integer({ min: 1, max: 30 })).map(([start, days]) => ({ startMs: BigInt(start - days * DAY_MS), endMs: BigInt(start) }));
  const tf = fc.integer(TIMEFRAMES).map((t) => t as Timeframe);
  return fc.oneof(
    fc.tuple(fc.integer({ min: 101, max: 300 }), range, tf).map(([n, r, t]) =>
      call("FetchCandleRange", `${n} markets`, encode(FetchCandleRangeRequestSchema, { markets: Array.from({ length: n }, (_, i) => `KRW-Z${i}`), timeframe: t, ...r }), INVALID_ARGUMENT, "markets"),
    ),
    fc.tuple(markets, range, tf).map(([ms, r, t]) =>
      call("FetchCandleRange", "a market twice", encode(FetchCandleRangeRequestSchema, { markets: [...ms, ms[0]!], timeframe: t, ...r }), INVALID_ARGUMENT, `markets[${ms.length}]`),
    ),
    fc.tuple(markets, range, tf, fc.integer({ min: 100_001, max: UINT32_MAX })).map(([ms, r, t, b]) =>
      call("FetchCandleRange", `batch_size ${b}`, encode(FetchCandleRangeRequestSchema, { markets: ms, timeframe: t, batchSize: b, ...r }), INVALID_ARGUMENT, "batch_size"),
    ),
    fc.tuple(markets, range, unknownTimeframe).map(([ms, r, t]) =>
      call("FetchCandleRange", `timeframe ${t}`, encode(FetchCandleRangeRequestSchema, { markets: ms, timeframe: t as Timeframe, ...r }), INVALID_ARGUMENT, "timeframe"),
    ),
    fc.tuple(markets, range, tf).map(([ms, r, t]) =>
      call("FetchCandleRange", "start_ms after end_ms", encode(FetchCandleRangeRequestSchema, { markets: ms, timeframe: t, startMs: r.endMs, endMs: r.startMs }), INVALID_ARGUMENT, "start_ms"),
    ),
    fc.tuple(markets, range, tf, beforeUpbit).map(([ms, r, t, start]) =>
      call("FetchCandleRange", `start_ms ${start}`, encode(FetchCandleRangeRequestSchema, { markets: ms, timeframe: t, startMs: start === 0n ? -1n : start, endMs: r.endMs }), INVALID_ARGUMENT, "start_ms"),
    ),
    fc.tuple(markets, range, tf, unlistedMarket(listedSet)).map(([ms, r, t, u]) =>
      call("FetchCandleRange", `unlisted ${u}`, encode(FetchCandleRangeRequestSchema, { markets: [...ms, u], timeframe: t, ...r }), NOT_FOUND),
    ),
    fc.tuple(fc.constantFrom(...listed), fc.integer({ min: 10, max: 13 })).map(([m, t]) =>
      call("StreamCandles", `timeframe ${t}`, encode(StreamCandlesRequestSchema, { market: m, timeframe: t as Timeframe }), INVALID_ARGUMENT, "timeframe"),
    ),
    fc.tuple(fc.constantFrom(...listed), fc.integer(STREAM_CANDLE_TIMEFRAMES), fc.oneof(beforeUpbit, farFuture(nowMs))).map(([m, t, since]) =>
      call("StreamCandles", `since_ms ${since}`, encode(StreamCandlesRequestSchema, { market: m, timeframe: t as Timeframe, sinceMs: since }), INVALID_ARGUMENT, "since_ms"),
    ),
    fc.tuple(malformedMarket, fc.integer(STREAM_CANDLE_TIMEFRAMES)).map(([m, t]) =>
      call("StreamCandles", "market malformed", encode(StreamCandlesRequestSchema, { market: m, timeframe: t as Timeframe }), INVALID_ARGUMENT, "market"),
    ),
    fc.tuple(fc.constantFrom("StreamTickers", "StreamTrades", "StreamOrderbooks"), fc.integer({ min: 1_001, max: 1_999 })).map(([method, n]) =>
      call(method, `${n} markets`, encode(StreamTickersRequestSchema, { markets: Array.from({ length: n }, () => "KRW-BTC") }), INVALID_ARGUMENT, "markets"),
    ),
    fc.constantFrom("StreamTickers", "StreamTrades", "StreamOrderbooks").map((method) => call(method, "no markets", new Uint8Array(0), INVALID_ARGUMENT, "markets")),
    fc.tuple(fc.constantFrom("StreamTickers", "StreamTrades", "StreamOrderbooks"), markets, malformedMarket).map(([method, ms, bad]) =>
      call(method, "a malformed market", encode(StreamTickersRequestSchema, { markets: [...ms, bad] }), INVALID_ARGUMENT, `markets[${ms.length}]`),
    ),
    fc.tuple(fc.constantFrom("StreamTickers", "StreamTrades", "StreamOrderbooks"), markets, unlistedMarket(listedSet)).map(([method, ms, u]) =>
      call(method, `unlisted ${u}`, encode(StreamTickersRequestSchema, { markets: [...ms, u] }), NOT_FOUND),
    ),
    fc.tuple(fc.constantFrom("StreamTickers", "StreamTrades"), markets, unknownPriority).map(([method, ms, p]) =>
      call(method, `priority ${p}`, encode(StreamTickersRequestSchema, { markets: ms, priority: p as Priority }), INVALID_ARGUMENT, "priority"),
    ),
    fc.tuple(markets, fc.oneof(fc.constantFrom(2, 3, 4, 6, 10, 20, 29, 31), fc.integer({ min: 31, max: UINT32_MAX }))).map(([ms, depth]) =>
      call("StreamOrderbooks", `depth ${depth}`, encode(StreamOrderbooksRequestSchema, { markets: ms, depth }), INVALID_ARGUMENT, "depth"),
    ),
  );
}

export interface HostileMix {
  /** GetCandles with one defect. */
  candles: number;
  snapshots: number;
  randomBytes: number;
  badUtf8: number;
  oversized: number;
  unknownMethods: number;
  streams: number;
}

/** `mix` hostile calls, shuffled, from a fixed seed. */
export function hostileCalls(mix: HostileMix, options: { listed: readonly string[]; nowMs: number; maxRequestBytes: number; seed: number }): HostileCall[] {
  const { listed, nowMs, seed } = options;
  const sample = <T>(arb: fc.Arbitrary<T>, n: number, salt: number): T[] => (n === 0 ? [] : fc.sample(arb, { numRuns: n, seed: seed + salt }));
  const calls = [
    ...sample(candleCalls(listed, nowMs), mix.candles, 1),
    ...sample(snapshotCalls(listed, nowMs), mix.snapshots, 2),
    ...sample(randomByteCalls(), mix.randomBytes, 3),
    ...sample(badUtf8Calls(listed), mix.badUtf8, 4),
    ...sample(oversizedCalls(options.maxRequestBytes), mix.oversized, 5),
    ...sample(unknownMethodCalls(), mix.unknownMethods, 6),
    ...sample(streamCalls(listed, nowMs), mix.streams, 7),
  ];
  // A fixed shuffle, so categories interleave as they would from many clients.
  return fc.sample(fc.shuffledSubarray(calls, { minLength: calls.length, maxLength: calls.length }), { numRuns: 1, seed })[0]!;
}

/** A GetCandles request for a market nobody lists: harmless if a slow sender ever finished it. */
export function harmlessCandleRequest(): Uint8Array {
  return encode(GetCandlesRequestSchema, { market: "KRW-ZZNOSUCHCOIN", timeframe: 2 as Timeframe, count: 10 });
}

/** A StreamTickers request for `markets` at LOW priority. */
export function tickerStreamRequest(markets: readonly string[]): Uint8Array {
  return encode(StreamTickersRequestSchema, { markets: [...markets], priority: 4 as Priority });
}
