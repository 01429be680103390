/**
 * A gRPC server (grpc-js, its own process, like the gateway) whose GetCandles answers the same
 * pre-encoded bytes every time: the floor any gateway can reach for that answer on this machine
 * (transport, HTTP/2 framing, the client's decoding), with no work behind it.
 *
 * Usage: tsx bench/canned-answer-server.ts ANSWER_FILE
 */
import { readFileSync } from "node:fs";
import { Server, ServerCredentials, type ServiceDefinition } from "@grpc/grpc-js";
import { MarketDataService } from "../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { grpcServiceDefinition } from "../src/shared/grpc/service-definition.js";

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: canned-answer-server.ts ANSWER_FILE\n");
  process.exit(2);
}
const answer = readFileSync(file);
const definition: ServiceDefinition = grpcServiceDefinition(MarketDataService, { getCandles: (b: Buffer) => b });
const server = new Server();
server.addService({ getCandles: definition.getCandles! }, { getCandles: (_call: unknown, callback: (e: null, b: Buffer) => void) => callback(null, answer) });
server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`${JSON.stringify({ event: "listening", address: `127.0.0.1:${port}` })}\n`);
});
process.on("SIGTERM", () => server.tryShutdown(() => process.exit(0)));
