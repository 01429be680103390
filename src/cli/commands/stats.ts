import { toJsonString } from "@bufbuild/protobuf";
import { type EventLoopBlockCount, type GetStatsResponse, GetStatsResponseSchema, type StoredSeries } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import { timeframeFromProto } from "../../shared/timeframe.js";
import { type CommandSpec, type OptionSpecs, parseCommandLine } from "../cli-args.js";
import { type Command, EXIT } from "../command.js";
import { byteSize, count, duration, percent } from "../human-figures.js";
import { formatTable, parseOutputFormat, type Records } from "../output-format.js";
import { isoTime } from "../time-arg.js";

const options = {
  series: { type: "boolean", description: "also list every stored (market, timeframe) series" },
  format: { type: "string", value: "F", description: "table or json (default table); json is the GetStatsResponse in proto JSON, snake_case" },
} as const satisfies OptionSpecs;

const spec: CommandSpec<typeof options> = {
  name: "stats",
  summary: "Show what the store holds and what the gateway is doing (GetStats).",
  synopsis: ["[--series] [--format table|json]"],
  arguments: [],
  options,
  notes: [
    "Store: database and WAL size, blocks, candle rows, series, realtime cache hit ratio per kind, " +
      "the last maintenance run (what it did), the last compaction, candles deleted by retention. " +
      "Gateway: uptime, active client streams, upstream WebSocket subscriptions, REST calls to Upbit since start.",
  ],
  examples: ["mdb stats", "mdb stats --series", "mdb stats --format json"],
};

export const statsCommand: Command<typeof options> = {
  spec,
  async run(argv, ctx) {
    const { values } = parseCommandLine(spec, argv);
    const format = parseOutputFormat(values.format, ["table", "json"]);
    const answer = await ctx.connect(values.gateway).getStats({ includeSeries: values.series === true }, { signal: ctx.signal });
    if (format === "json") {
      ctx.stdout.write(`${toJsonString(GetStatsResponseSchema, answer, { useProtoFieldName: true, alwaysEmitImplicit: true, prettySpaces: 2 })}\n`);
    } else {
      ctx.stdout.write(statsText(answer, values.series === true));
    }
    return EXIT.ok;
  },
};

/** The stats as `name  value` lines in two sections, then the series table when asked for. */
export function statsText(s: GetStatsResponse, withSeries: boolean): string {
  const lines: [string, string][] = [];
  const store = s.store;
  // "Ago" is measured on the gateway's clock, the one the daemon beside it shares.
  const serverTime = s.gateway === undefined ? Date.now() : Number(s.gateway.serverTimeMs);
  const when = (ms: bigint) => (ms > 0n ? `${isoTime(Number(ms))} (${duration(serverTime - Number(ms))} ago)` : "none since the daemon started");
  if (store === undefined || !store.available) {
    lines.push(["store", "unavailable (the storage daemon did not answer)"]);
  } else {
    lines.push(
      ["store", ""],
      ["  database size", byteSize(Number(store.databaseSizeBytes))],
      ["  wal size", byteSize(Number(store.walSizeBytes))],
      ["  blocks", `${count(Number(store.totalBlocks))} total, ${count(Number(store.freeBlocks))} free, ${byteSize(Number(store.blockSize))} each`],
      ["  candle rows", count(Number(store.candleRows))],
      ["  series", count(store.seriesCount)],
      ["  cache hit ratio", percent(store.cacheHitRatio)],
      ...store.cache.map((c): [string, string] => [
        `  cache ${c.kind}`,
        `${count(c.entries)} entries, ${count(Number(c.hits))} hits, ${count(Number(c.misses))} misses, ${percent(c.hitRatio)} hit ratio`,
      ]),
      ["  last maintenance", when(store.lastMaintenanceMs)],
      ...(store.lastMaintenanceDetail === "" ? [] : [["  maintenance did", store.lastMaintenanceDetail] as [string, string]]),
      ["  last compaction", when(store.lastCompactionMs)],
      ["  retention deleted", `${count(Number(store.retentionDeletedRows))} candles since the daemon started`],
    );
  }
  const gw = s.gateway;
  if (gw !== undefined) {
    const started = Number(gw.startedAtMs);
    lines.push(
      ["gateway", ""],
      ["  uptime", `${duration(Number(gw.serverTimeMs) - started)} (since ${isoTime(started)})`],
      ["  server time", isoTime(Number(gw.serverTimeMs))],
      ["  active streams", count(gw.activeStreams)],
      ["  upstream subscriptions", count(gw.upstreamSubscriptions)],
      ["  upstream calls", count(Number(gw.upstreamCalls))],
      ["  event loop", `delay p99 ${millis(gw.eventLoopDelayP99Ms)}, longest block ${millis(gw.eventLoopDelayMaxMs)}, longest own work ${millis(gw.eventLoopBusyMaxMs)}${ownBlocks(gw.eventLoopBusyBlocks)}`],
    );
  }
  const width = Math.max(...lines.map(([k]) => k.length));
  let text = lines.map(([k, v]) => (v === "" ? `${k}\n` : `${k.padEnd(width)}  ${v}\n`)).join("");
  if (withSeries && store?.available === true) text += `\n${formatTable(seriesRecords(store.series))}`;
  return text;
}

const millis = (ms: number) => `${ms.toFixed(1)} ms`;

const OWN_BLOCK_REPORTED_MS = 10;

/** The count of own-work blocks at the target length (10 ms), from a gateway that reports them. */
function ownBlocks(blocks: readonly EventLoopBlockCount[]): string {
  const at10 = blocks.find((b) => b.atLeastMs === OWN_BLOCK_REPORTED_MS);
  return at10 === undefined ? "" : `, ${count(Number(at10.count))} own-work blocks >= ${OWN_BLOCK_REPORTED_MS} ms`;
}

function seriesRecords(series: readonly StoredSeries[]): Records {
  return {
    columns: ["market", "timeframe", "rows", "first", "last", "coverage_intervals"],
    rows: series.map((x) => [
      x.market,
      timeframeName(x),
      Number(x.rows),
      x.rows > 0n ? isoTime(Number(x.firstTimeMs)) : null,
      x.rows > 0n ? isoTime(Number(x.lastTimeMs)) : null,
      x.coverageIntervals,
    ]),
  };
}

function timeframeName(x: StoredSeries): string {
  try {
    const tf = timeframeFromProto(x.timeframe);
    return tf === "1mo" ? "1M" : tf;
  } catch {
    return String(x.timeframe);
  }
}
