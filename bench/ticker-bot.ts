/**
 * A trading bot for the bulk bench, in a process of its own as a bot would be: CRITICAL GetTickers
 * of one market on a fixed schedule, each call's latency kept. Run by `startTickerBot`; the bench
 * process itself is busy decoding bulk batches, and a call timed from there would also wait for
 * that. Prints `ready` after a first call, and the samples as JSON once stdin ends.
 *
 * Usage: tsx bench/ticker-bot.ts ADDRESS MARKET INTERVAL_MS
 */
import { spawn } from "node:child_process";
import { MarketDataService, Priority } from "../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { createGrpcClient } from "../src/shared/grpc/client.js";
import { paced } from "./latency-stats.js";

export interface TickerBotReport {
  samples: number[];
  upstreamCalls: number;
}

/** Starts the bot; resolves once its first call was answered. The returned function ends it and resolves with what it measured. */
export async function startTickerBot(address: string, market: string, intervalMs: number): Promise<() => Promise<TickerBotReport>> {
  const child = spawn(process.execPath, ["--import", "tsx", new URL(import.meta.url).pathname, address, market, String(intervalMs)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  let out = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.startsWith("ready\n")) resolve();
    });
    void exited.then((code) => reject(new Error(`the ticker bot exited with ${code} before its first answer`)));
  });
  return async () => {
    child.stdin.end();
    const code = await exited;
    const line = out.split("\n")[1];
    if (code !== 0 || !line) throw new Error(`the ticker bot exited with ${code}: ${out}`);
    return JSON.parse(line) as TickerBotReport;
  };
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
