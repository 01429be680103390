import { GapReason } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import { type CommandSpec, type OptionSpecs, parseCommandLine, PRIORITY_OPTION } from "../cli-args.js";
import { candleRecords } from "../candle-rows.js";
import { type Command, EXIT } from "../command.js";
import { gapText } from "../fetch-tally.js";
import { parseIntegerArg } from "../number-arg.js";
import { formatRecords, parseOutputFormat } from "../output-format.js";
import { parsePriorityArg } from "../priority-arg.js";
import { parseTimeArg } from "../time-arg.js";
import { parseProtoTimeframeArg, TIMEFRAME_NAMES } from "../timeframe-arg.js";
import { UsageError } from "../usage-error.js";

/** Candles shown when neither --count nor --from is given: one Upbit page. */
const DEFAULT_COUNT = 200;
const MAX_UINT32 = 4_294_967_295;

const options = {
  count: { type: "string", value: "N", description: `the N most recent candles before --to (default ${DEFAULT_COUNT})` },
  from: { type: "string", value: "T", description: "every bucket from T (inclusive) to --to instead of a count" },
  to: { type: "string", value: "T", description: "end, exclusive (default now)" },
  format: { type: "string", value: "F", description: "table, csv or json (default table)" },
  ...PRIORITY_OPTION,
} as const satisfies OptionSpecs;

const spec: CommandSpec<typeof options> = {
  name: "candles",
  summary: "Print candles of one market (GetCandles).",
  synopsis: ["MARKET TIMEFRAME [--count N | --from T] [--to T] [--format table|csv|json]"],
  arguments: [
    { name: "MARKET", description: "market code, e.g. KRW-BTC" },
    { name: "TIMEFRAME", description: TIMEFRAME_NAMES },
  ],
  options,
  notes: [
    "Columns: market, time_ms, time (ISO 8601 UTC), open, high, low, close, volume, quote_volume; ascending in time.",
    "The gateway caps one answer (20,000 candles by default); use 'mdb fetch' for bulk history.",
    "Gaps the gateway could not verify (other than the forming bucket) are reported on stderr.",
  ],
  examples: [
    "mdb candles KRW-BTC 1m --count 5",
    "mdb candles KRW-ETH 1d --from 2024-01-01 --to 2024-02-01 --format csv",
    "mdb candles KRW-BTC 60m --to 2024-01-01T09:00:00+09:00 --count 24 --format json",
  ],
};

export const candlesCommand: Command<typeof options> = {
  spec,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandLine(spec, argv);
    const [market, timeframe] = positionals as [string, string];
    const tf = parseProtoTimeframeArg(timeframe);
    const format = parseOutputFormat(values.format);
    const priority = parsePriorityArg(values.priority);
    if (values.count !== undefined && values.from !== undefined) throw new UsageError("give either --count or --from, not both");
    const endMs = values.to === undefined ? undefined : parseTimeArg("--to", values.to, ctx.now);
    const startMs = values.from === undefined ? undefined : parseTimeArg("--from", values.from, ctx.now);
    if (startMs !== undefined && startMs >= (endMs ?? ctx.now())) throw new UsageError("--from must be before --to (or before now when --to is not given)");
    const count = startMs === undefined ? (values.count === undefined ? DEFAULT_COUNT : parseIntegerArg("--count", values.count, 1, MAX_UINT32)) : 0;

    const client = ctx.connect(values.gateway);
    const answer = await client.getCandles(
      {
        market,
        timeframe: tf,
        count,
        priority,
        ...(startMs === undefined ? {} : { startMs: BigInt(startMs) }),
        ...(endMs === undefined ? {} : { endMs: BigInt(endMs) }),
      },
      { signal: ctx.signal },
    );
    ctx.stdout.write(formatRecords(candleRecords(market, answer.candles), format));
    for (const gap of answer.meta?.gaps ?? []) {
      if (gap.reason === GapReason.FORMING || gap.reason === GapReason.STORE_UNAVAILABLE) continue;
      ctx.stderr.write(`mdb: warning: unverified ${gapText(market, gap)}\n`);
    }
    return EXIT.ok;
  },
};
