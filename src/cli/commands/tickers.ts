import type { Ticker } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import { type CommandSpec, type OptionSpecs, parseCommandLine, PRIORITY_OPTION } from "../cli-args.js";
import { type Command, type CommandContext, EXIT } from "../command.js";
import { LiveView } from "../live-view.js";
import { parseMarketListArg } from "../market-list-arg.js";
import { parseIntegerArg } from "../number-arg.js";
import { type Cell, csvLine, formatCsv, formatRecords, formatTable, jsonObject, type OutputFormat, parseOutputFormat, plainNumber, type Records } from "../output-format.js";
import { parsePriorityArg } from "../priority-arg.js";
import { isoTime } from "../time-arg.js";
import { watchStream } from "../watch-stream.js";

const MAX_UINT32 = 4_294_967_295;

const options = {
  watch: { type: "boolean", short: "w", description: "stream updates (StreamTickers) until Ctrl-C" },
  "min-interval": { type: "string", value: "MS", description: "with --watch: at most one update per market per MS milliseconds (default: every update)" },
  format: { type: "string", value: "F", description: "table, csv or json (default table); with --watch json is one object per line" },
  ...PRIORITY_OPTION,
} as const satisfies OptionSpecs;

const spec: CommandSpec<typeof options> = {
  name: "tickers",
  summary: "Print current tickers (GetTickers), or watch them live (StreamTickers).",
  synopsis: ["MARKETS [--watch [--min-interval MS]] [--format table|csv|json]"],
  arguments: [{ name: "MARKETS", description: "comma-separated market codes, e.g. KRW-BTC,KRW-ETH" }],
  options,
  notes: [
    "Columns: market, price, change and change_rate (signed, against the previous UTC day's close; 0.01 = 1%), " +
      "high, low (of the UTC day), volume_24h, value_24h (quote currency), trade_time (ISO 8601 UTC), snapshot (--watch: true for the first message per market).",
    "--watch on a terminal keeps one table redrawn in place; otherwise it prints one line per update. Ctrl-C ends it with status 0.",
  ],
  examples: ["mdb tickers KRW-BTC,KRW-ETH", "mdb tickers KRW-BTC --watch", "mdb tickers KRW-BTC,KRW-XRP --watch --format json | jq .price"],
};

const COLUMNS = ["market", "price", "change", "change_rate", "high", "low", "volume_24h", "value_24h", "trade_time"];

function tickerRow(t: Ticker): Cell[] {
  return [t.market, t.tradePrice, t.signedChangePrice, t.signedChangeRate, t.highPrice, t.lowPrice, t.accTradeVolume24h, t.accTradePrice24h, isoTime(Number(t.tradeTimeMs))];
}

export const tickersCommand: Command<typeof options> = {
  spec,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandLine(spec, argv);
    const markets = parseMarketListArg(positionals[0]!);
    const format = parseOutputFormat(values.format);
    const priority = parsePriorityArg(values.priority);
    const minIntervalMs = values["min-interval"] === undefined ? 0 : parseIntegerArg("--min-interval", values["min-interval"], 0, MAX_UINT32);
    const client = ctx.connect(values.gateway);
    if (!values.watch) {
      const answer = await client.getTickers({ markets, priority }, { signal: ctx.signal });
      ctx.stdout.write(formatRecords({ columns: COLUMNS, rows: answer.tickers.map(tickerRow) }, format));
      return EXIT.ok;
    }
    const show = tickerPrinter(ctx, format, markets);
    await watchStream(client.streamTickers({ markets, priority, minIntervalMs }, { signal: ctx.signal }), ctx.signal, (m) => {
      if (m.ticker !== undefined) show(m.ticker, m.snapshot);
    });
    return EXIT.ok;
  },
};

/** How each streamed ticker is printed: a redrawn table on a terminal, one line per update otherwise. */
function tickerPrinter(ctx: CommandContext, format: OutputFormat, markets: readonly string[]): (t: Ticker, snapshot: boolean) => void {
  const columns = [...COLUMNS, "snapshot"];
  if (format === "json") return (t, snapshot) => ctx.stdout.write(`${jsonObject(columns, [...tickerRow(t), snapshot])}\n`);
  if (format === "csv") {
    let headed = false;
    return (t, snapshot) => {
      ctx.stdout.write(headed ? csvLine([...tickerRow(t), snapshot]) : formatCsv({ columns, rows: [[...tickerRow(t), snapshot]] }));
      headed = true;
    };
  }
  if (ctx.stdout.isTTY === true) {
    const view = new LiveView(ctx.stdout);
    const latest = new Map<string, Ticker>();
    return (t) => {
      latest.set(t.market, t);
      // Rows stay in the order the markets were asked for, so the table does not jump around.
      const rows = [...latest.values()].sort((a, b) => markets.indexOf(a.market) - markets.indexOf(b.market)).map(tickerRow);
      view.show(formatTable({ columns: COLUMNS, rows } satisfies Records));
    };
  }
  return (t, snapshot) => ctx.stdout.write(`${updateLine(t, snapshot)}\n`);
}

/** `2024-01-01T00:00:01.000Z KRW-BTC price 95000000 change +120000 (+0.13%) volume_24h 1234.5 snapshot` */
function updateLine(t: Ticker, snapshot: boolean): string {
  const sign = (n: number) => (n > 0 ? "+" : "");
  return [
    isoTime(Number(t.tradeTimeMs)),
    t.market,
    `price ${plainNumber(t.tradePrice)}`,
    `change ${sign(t.signedChangePrice)}${plainNumber(t.signedChangePrice)} (${sign(t.signedChangeRate)}${(t.signedChangeRate * 100).toFixed(2)}%)`,
    `volume_24h ${plainNumber(t.accTradeVolume24h)}`,
    ...(snapshot ? ["snapshot"] : []),
  ].join(" ");
}
