/**
 * One GetCandles call from its own process, for benchmarks: a backtester's big answer is decoded
 * there, not on the event loop of the process timing a bot's calls (two programs, as in life).
 *
 *   tsx bench/candles-call-process.ts ADDRESS REQUEST_JSON
 *
 * REQUEST_JSON is the request with int64 fields as decimal strings. Prints one JSON line:
 * `{"candles":N,"upstreamCalls":N}`, or exits 1 with the error on stderr.
 */
import { fromJson } from "@bufbuild/protobuf";
import { GetCandlesRequestSchema, MarketDataService } from "../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { createGrpcClient } from "../src/shared/grpc/client.js";

const [address, requestJson] = process.argv.slice(2);
if (address === undefined || requestJson === undefined) {
  console.error("usage: candles-call-process.ts ADDRESS REQUEST_JSON");
  process.exit(2);
}
const client = createGrpcClient(MarketDataService, address);
try {
  const answer = await client.getCandles(fromJson(GetCandlesRequestSchema, JSON.parse(requestJson)));
  console.log(JSON.stringify({ candles: answer.candles.length, upstreamCalls: answer.meta?.upstreamCalls ?? 0 }));
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
} finally {
  client.close();
}
