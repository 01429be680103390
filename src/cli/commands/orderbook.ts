import type { Orderbook } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import { type CommandSpec, type OptionSpecs, parseCommandLine, PRIORITY_OPTION } from "../cli-args.js";
import { type Command, type CommandContext, EXIT } from "../command.js";
import { LiveView } from "../live-view.js";
import { parseIntegerArg } from "../number-arg.js";
import { type Cell, csvLine, formatCsv, formatTable, type OutputFormat, parseOutputFormat, plainNumber, type Records } from "../output-format.js";
import { parsePriorityArg } from "../priority-arg.js";
import { isoTime } from "../time-arg.js";
import { watchStream } from "../watch-stream.js";

const MAX_UINT32 = 4_294_967_295;

const options = {
  depth: { type: "string", value: "N", description: "levels per side: 1-30 (default 30); with --watch 1, 5, 15 or 30" },
  watch: { type: "boolean", short: "w", description: "stream full books (StreamOrderbooks) until Ctrl-C" },
  "min-interval": { type: "string", value: "MS", description: "with --watch: at most one update per MS milliseconds (default: every update)" },
  format: { type: "string", value: "F", description: "table, csv or json (default table); json is one object per book and line" },
  ...PRIORITY_OPTION,
} as const satisfies OptionSpecs;

const spec: CommandSpec<typeof options> = {
  name: "orderbook",
  summary: "Print the order book of one market (GetOrderbooks), or watch it live (StreamOrderbooks).",
  synopsis: ["MARKET [--depth N] [--watch [--min-interval MS]] [--format table|csv|json]"],
  arguments: [{ name: "MARKET", description: "market code, e.g. KRW-BTC" }],
  options,
  notes: [
    "The table lists levels best first: level, bid_size, bid_price, ask_price, ask_size. csv adds market and time to every level; " +
      "json holds the whole book (market, timestamp_ms, time, total_ask_size, total_bid_size, level, units).",
    "--watch on a terminal redraws the book in place; otherwise it prints one line per update (best bid and ask, spread). Ctrl-C ends it with status 0.",
  ],
  examples: ["mdb orderbook KRW-BTC --depth 5", "mdb orderbook KRW-ETH --watch --depth 15", "mdb orderbook KRW-BTC --format json"],
};

const LEVEL_COLUMNS = ["level", "bid_size", "bid_price", "ask_price", "ask_size"];

function levelRecords(book: Orderbook): Records {
  return { columns: LEVEL_COLUMNS, rows: book.units.map((u, i) => [i + 1, u.bidSize, u.bidPrice, u.askPrice, u.askSize]) };
}

function csvRows(book: Orderbook): Cell[][] {
  const time = isoTime(Number(book.timestampMs));
  return book.units.map((u, i) => [book.market, time, i + 1, u.bidSize, u.bidPrice, u.askPrice, u.askSize]);
}
const CSV_COLUMNS = ["market", "time", ...LEVEL_COLUMNS];

function bookJson(book: Orderbook): string {
  return JSON.stringify({
    market: book.market,
    timestamp_ms: Number(book.timestampMs),
    time: isoTime(Number(book.timestampMs)),
    total_ask_size: book.totalAskSize,
    total_bid_size: book.totalBidSize,
    level: book.level,
    units: book.units.map((u) => ({ ask_price: u.askPrice, ask_size: u.askSize, bid_price: u.bidPrice, bid_size: u.bidSize })),
  });
}

/** ask - bid without the float noise of the subtraction (0.3 - 0.1 is 0.19999999999999998). */
function spreadOf(ask: number, bid: number): number {
  return Number((ask - bid).toPrecision(12));
}

/** `KRW-BTC  2024-01-01T00:00:00.000Z  spread 1000  total bid 12.5 / ask 10.2`, then the levels. */
function bookTable(book: Orderbook): string {
  const best = book.units[0];
  const spread = best === undefined ? "" : `  spread ${plainNumber(spreadOf(best.askPrice, best.bidPrice))}`;
  const head = `${book.market}  ${isoTime(Number(book.timestampMs))}${spread}  total bid ${plainNumber(book.totalBidSize)} / ask ${plainNumber(book.totalAskSize)}\n`;
  return head + formatTable(levelRecords(book));
}

/** `2024-01-01T00:00:00.000Z KRW-BTC bid 94990000 x 0.5 ask 95000000 x 0.1 spread 10000` */
function updateLine(book: Orderbook, snapshot: boolean): string {
  const best = book.units[0];
  const quote = best === undefined
    ? "empty"
    : `bid ${plainNumber(best.bidPrice)} x ${plainNumber(best.bidSize)} ask ${plainNumber(best.askPrice)} x ${plainNumber(best.askSize)} spread ${plainNumber(spreadOf(best.askPrice, best.bidPrice))}`;
  return `${isoTime(Number(book.timestampMs))} ${book.market} ${quote}${snapshot ? " snapshot" : ""}`;
}

export const orderbookCommand: Command<typeof options> = {
  spec,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandLine(spec, argv);
    const market = positionals[0]!;
    const format = parseOutputFormat(values.format);
    const priority = parsePriorityArg(values.priority);
    // Range checks beyond uint32 are the server's, so its message names the field and the rule.
    const depth = values.depth === undefined ? 0 : parseIntegerArg("--depth", values.depth, 1, MAX_UINT32);
    const minIntervalMs = values["min-interval"] === undefined ? 0 : parseIntegerArg("--min-interval", values["min-interval"], 0, MAX_UINT32);
    const client = ctx.connect(values.gateway);
    if (!values.watch) {
      const answer = await client.getOrderbooks({ markets: [market], depth, priority }, { signal: ctx.signal });
      for (const book of answer.orderbooks) printOnce(ctx, book, format);
      return EXIT.ok;
    }
    const show = bookPrinter(ctx, format);
    await watchStream(client.streamOrderbooks({ markets: [market], depth, priority, minIntervalMs }, { signal: ctx.signal }), ctx.signal, (m) => {
      if (m.orderbook !== undefined) show(m.orderbook, m.snapshot);
    });
    return EXIT.ok;
  },
};

function printOnce(ctx: CommandContext, book: Orderbook, format: OutputFormat): void {
  if (format === "json") ctx.stdout.write(`${bookJson(book)}\n`);
  else if (format === "csv") ctx.stdout.write(formatCsv({ columns: CSV_COLUMNS, rows: csvRows(book) }));
  else ctx.stdout.write(bookTable(book));
}

function bookPrinter(ctx: CommandContext, format: OutputFormat): (book: Orderbook, snapshot: boolean) => void {
  if (format === "json") return (book) => ctx.stdout.write(`${bookJson(book)}\n`);
  if (format === "csv") {
    let headed = false;
    return (book) => {
      ctx.stdout.write(headed ? csvRows(book).map(csvLine).join("") : formatCsv({ columns: CSV_COLUMNS, rows: csvRows(book) }));
      headed = true;
    };
  }
  if (ctx.stdout.isTTY === true) {
    const view = new LiveView(ctx.stdout);
    return (book) => view.show(bookTable(book));
  }
  return (book, snapshot) => ctx.stdout.write(`${updateLine(book, snapshot)}\n`);
}
