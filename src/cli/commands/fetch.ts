import { resolve } from "node:path";
import { type CommandSpec, type OptionSpecs, parseCommandLine, PRIORITY_OPTION } from "../cli-args.js";
import { candleFileFormatOf, openCandleFileWriter } from "../candle-file-writer.js";
import { type Command, EXIT } from "../command.js";
import { FetchTally, formatFetchSummary, marketDoneLine } from "../fetch-tally.js";
import { parseMarketListArg } from "../market-list-arg.js";
import { parseIntegerArg } from "../number-arg.js";
import { parsePriorityArg } from "../priority-arg.js";
import { ProgressReporter } from "../progress-reporter.js";
import { isoTime, parseTimeArg } from "../time-arg.js";
import { parseProtoTimeframeArg, TIMEFRAME_NAMES } from "../timeframe-arg.js";
import { UsageError } from "../usage-error.js";

/** FetchCandleRange's own limit on `batch_size`. */
const MAX_BATCH_SIZE = 100_000;

const options = {
  from: { type: "string", value: "T", description: "first bucket, inclusive (required)" },
  to: { type: "string", value: "T", description: "end, exclusive (required; 'now' is accepted)" },
  out: { type: "string", value: "FILE", description: "output file ending in .parquet, .csv or .jsonl (required; replaced if it exists)" },
  "batch-size": { type: "string", value: "N", description: `candles per streamed batch, 1-${MAX_BATCH_SIZE.toLocaleString("en-US")} (default: the server's, 10,000)` },
  ...PRIORITY_OPTION,
} as const satisfies OptionSpecs;

const spec: CommandSpec<typeof options> = {
  name: "fetch",
  summary: "Download bulk history of one or more markets to a file (FetchCandleRange).",
  synopsis: ["MARKETS TIMEFRAME --from T --to T --out FILE [--priority P] [--batch-size N]"],
  arguments: [
    { name: "MARKETS", description: "comma-separated market codes, e.g. KRW-BTC,KRW-ETH (1-100)" },
    { name: "TIMEFRAME", description: TIMEFRAME_NAMES },
  ],
  options,
  notes: [
    "Columns: market, time_ms, time, open, high, low, close, volume, quote_volume; markets in the order given, each ascending in time. " +
      "time is ISO 8601 UTC text in csv and jsonl and a TIMESTAMP (UTC) in Parquet, which DuckDB writes.",
    "The file appears only when complete: data goes to FILE.partial, renamed at the end and removed on error or Ctrl-C. " +
      "csv and jsonl are written batch by batch; Parquet is buffered in an in-memory DuckDB table first " +
      "(about 80 bytes a candle, so ten million candles take ~0.8 GB): use csv or jsonl, or split the range, beyond that.",
    "Progress goes to stderr (a bar on a terminal, plain lines otherwise); the summary (candles, gaps, upstream calls, time, rate) to stdout. " +
      "Missing history is fetched from Upbit inside its rate limits at LOW priority unless --priority says otherwise; a repeat is served from the store.",
  ],
  examples: [
    "mdb fetch KRW-BTC,KRW-ETH 1m --from 2024-01-01 --to 2024-02-01 --out jan.parquet",
    "mdb fetch KRW-XRP 1d --from 2023-01-01T00:00:00+09:00 --to now --out xrp.csv",
  ],
};

export const fetchCommand: Command<typeof options> = {
  spec,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandLine(spec, argv);
    const markets = parseMarketListArg(positionals[0]!);
    const timeframe = parseProtoTimeframeArg(positionals[1]!);
    if (values.from === undefined || values.to === undefined || values.out === undefined) {
      const missing = (["from", "to", "out"] as const).filter((o) => values[o] === undefined).map((o) => `--${o}`);
      throw new UsageError(`missing ${missing.join(", ")}`);
    }
    const startMs = parseTimeArg("--from", values.from, ctx.now);
    const endMs = parseTimeArg("--to", values.to, ctx.now);
    if (startMs >= endMs) throw new UsageError(`--from (${isoTime(startMs)}) must be before --to (${isoTime(endMs)})`);
    candleFileFormatOf(values.out);
    const batchSize = values["batch-size"] === undefined ? 0 : parseIntegerArg("--batch-size", values["batch-size"], 1, MAX_BATCH_SIZE);
    const priority = parsePriorityArg(values.priority);
    const path = resolve(values.out);

    const client = ctx.connect(values.gateway);
    const startedAt = ctx.now();
    const writer = await openCandleFileWriter(path);
    const tally = new FetchTally(markets.length);
    const progress = new ProgressReporter(ctx.stderr, ctx.now);
    if (ctx.stderr.isTTY !== true) {
      ctx.stderr.write(`fetching ${markets.join(",")} ${positionals[1]} ${isoTime(startMs)} .. ${isoTime(endMs)} into ${path}\n`);
    }
    progress.start(tally.progress());
    try {
      // A Ctrl-C before the call starts would not cancel it: the client listens for the abort event only.
      ctx.signal.throwIfAborted();
      const stream = client.fetchCandleRange(
        { markets, timeframe, startMs: BigInt(startMs), endMs: BigInt(endMs), priority, batchSize },
        { signal: ctx.signal },
      );
      for await (const message of stream) {
        const batch = message.batch;
        if (batch === undefined) continue;
        await writer.write(batch);
        const completed = tally.add(batch);
        if (completed === undefined) progress.update(tally.progress());
        else progress.marketDone(marketDoneLine(completed), tally.progress());
      }
      const unfinished = markets.filter((m) => !tally.marketTallies().some((t) => t.market === m && t.meta !== undefined));
      if (unfinished.length > 0) {
        throw new Error(`the gateway ended the stream before ${unfinished.join(", ")} ${unfinished.length === 1 ? "was" : "were"} complete; nothing was written`);
      }
      progress.finish();
      await writer.commit();
    } catch (e) {
      progress.finish();
      await writer.abort();
      throw e;
    }
    ctx.stdout.write(formatFetchSummary({ file: path, tally, elapsedMs: ctx.now() - startedAt }));
    return EXIT.ok;
  },
};
