import type { Market } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import { type CommandSpec, type OptionSpecs, parseCommandLine, PRIORITY_OPTION } from "../cli-args.js";
import { type Command, EXIT } from "../command.js";
import { type Cell, formatRecords, parseOutputFormat } from "../output-format.js";
import { parsePriorityArg } from "../priority-arg.js";

const options = {
  quote: { type: "string", value: "Q", description: "only markets of these quote currencies, comma-separated, e.g. KRW or KRW,BTC" },
  format: { type: "string", value: "F", description: "table, csv or json (default table)" },
  ...PRIORITY_OPTION,
} as const satisfies OptionSpecs;

const spec: CommandSpec<typeof options> = {
  name: "markets",
  summary: "List the markets Upbit trades (ListMarkets).",
  synopsis: ["[--quote Q] [--format table|csv|json]"],
  arguments: [],
  options,
  notes: ["Columns: market, quote, base, english_name, korean_name, warning (investment warning), cautions (active caution designations)."],
  examples: ["mdb markets", "mdb markets --quote KRW --format csv"],
};

const COLUMNS = ["market", "quote", "base", "english_name", "korean_name", "warning", "cautions"];

const CAUTIONS = [
  ["cautionPriceFluctuations", "price_fluctuations"],
  ["cautionTradingVolumeSoaring", "trading_volume_soaring"],
  ["cautionDepositAmountSoaring", "deposit_amount_soaring"],
  ["cautionGlobalPriceDifferences", "global_price_differences"],
  ["cautionConcentrationOfSmallAccounts", "concentration_of_small_accounts"],
] as const;

function marketRow(m: Market): Cell[] {
  const e = m.marketEvent;
  const cautions = e === undefined ? [] : CAUTIONS.filter(([field]) => e[field]).map(([, name]) => name);
  return [m.market, m.quoteCurrency, m.baseCurrency, m.englishName, m.koreanName, e?.warning ?? false, cautions.join(" ")];
}

export const marketsCommand: Command<typeof options> = {
  spec,
  async run(argv, ctx) {
    const { values } = parseCommandLine(spec, argv);
    const format = parseOutputFormat(values.format);
    const priority = parsePriorityArg(values.priority);
    const quoteCurrencies = (values.quote ?? "").split(",").map((q) => q.trim()).filter((q) => q !== "");
    const answer = await ctx.connect(values.gateway).listMarkets({ quoteCurrencies, priority }, { signal: ctx.signal });
    ctx.stdout.write(formatRecords({ columns: COLUMNS, rows: answer.markets.map(marketRow) }, format));
    return EXIT.ok;
  },
};
