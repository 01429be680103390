/**
 * A trading bot for the bulk bench, in a process of its own as a bot would be: CRITICAL GetTickers
 * of one market on a fixed schedule, each call's latency kept. Run by `startTickerBot`; the bench
 * process itself is busy decoding bulk batches, and a call timed from there would also wait for
 * that. Prints `ready` after a first call, and the samples as JSON once stdin ends.
 *
 * Usage: tsx bench/ticker-bot.ts ADDRESS MARKET INTERVAL_MS
 */
import { MarketDataService, Priority } from "../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { createGrpcClient } from "../src/shared/grpc/client.js";
import { paced } from "./latency-stats.js";
import { startReportingChild } from "./reporting-child.js";

export interface TickerBotReport {
  samples: number[];
  upstreamCalls: number;
}

/** Starts the bot; resolves once its first call was answered. The returned function ends it and resolves with what it measured. */
export function startTickerBot(address: string, market: string, intervalMs: number): Promise<() => Promise<TickerBotReport>> {
  return startReportingChild<TickerBotReport>(["--import", "tsx", new URL(import.meta.url).pathname, address, market, String(intervalMs)], "the ticker bot");
}

async function main(address: string, market: string, intervalMs: number): Promise<void> {
  const client = createGrpcClient(MarketDataService, address);
  let upstreamCalls = 0;
  const call = async () => {
    const answer = await client.getTickers({ markets: [market], priority: Priority.CRITICAL });
    if (answer.tickers.length !== 1) throw new Error(`GetTickers answered ${answer.tickers.length} tickers`);
    upstreamCalls += answer.meta?.upstreamCalls ?? 0;
  };
  // The first calls connect and fill the gateway's snapshot: not what a running bot sees.
  for (let i = 0; i < 5; i++) await call();
  upstreamCalls = 0;
  let ended = false;
  process.stdin.on("end", () => (ended = true));
  process.stdin.resume();
  process.stdout.write("ready\n");
  const samples = await paced(intervalMs, () => ended, call);
  client.close();
  process.stdout.write(`${JSON.stringify({ samples, upstreamCalls } satisfies TickerBotReport)}\n`);
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const [address, market, interval] = process.argv.slice(2);
  await main(address!, market!, Number(interval));
}
