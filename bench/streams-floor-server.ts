/**
 * The fan-out floor of the streams bench: a grpc-js server in its own process (like the gateway)
 * with the gateway's own Upbit WebSocket client and proto conversion, that answers StreamTickers
 * and StreamOrderbooks with every market the simulator sends, each update encoded once and
 * written to every open call as it arrives. No hub, no queues, no priorities, no conflation, no
 * store: what any gateway on grpc-js pays on this machine to get one upstream message to N
 * subscribers. Its added latency, measured as the gateway's is, is the least the gateway's can be.
 *
 * Usage: tsx bench/streams-floor-server.ts WS_URL MARKET,MARKET,...
 */
import { create, type DescMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { Server, ServerCredentials, type ServerWritableStream, type ServiceDefinition } from "@grpc/grpc-js";
import { MarketDataService, StreamOrderbooksResponseSchema, StreamTickersResponseSchema } from "../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { orderbookToProto, tickerToProto } from "../src/gateway/snapshots/proto-conversions.js";
import { createUpbitWebSocketClient } from "../src/gateway/upstream/upbit-websocket-client.js";
import { grpcServiceDefinition } from "../src/shared/grpc/service-definition.js";
import type { StreamKind } from "./streams-proto-scan.js";

const [url, marketList] = process.argv.slice(2);
if (!url || !marketList) {
  process.stderr.write("usage: streams-floor-server.ts WS_URL MARKET,MARKET,...\n");
  process.exit(2);
}
const markets = marketList.split(",");

type Call = ServerWritableStream<unknown, Buffer>;

interface Fanout {
  readonly calls: Set<Call>;
  /** The last message per market, flagged snapshot: what a new call gets first. */
  readonly snapshots: Map<string, Buffer>;
}

let listening = false;
const fanouts: Record<StreamKind, Fanout> = {
  ticker: { calls: new Set(), snapshots: new Map() },
  orderbook: { calls: new Set(), snapshots: new Map() },
};

function publish(kind: StreamKind, market: string, live: Buffer, snapshot: Buffer): void {
  const f = fanouts[kind];
  f.snapshots.set(market, snapshot);
  for (const call of f.calls) call.write(live);
  if (!listening && fanouts.ticker.snapshots.size === markets.length && fanouts.orderbook.snapshots.size === markets.length) listen();
}

/** The update encoded as a live message and as the snapshot later calls start with. */
function encoded<D extends DescMessage>(schema: D, init: (snapshot: boolean) => MessageInitShape<D>): [live: Buffer, snapshot: Buffer] {
  const bytes = (snapshot: boolean) => {
    const b = toBinary(schema, create(schema, init(snapshot)));
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  };
  return [bytes(false), bytes(true)];
}

const ws = createUpbitWebSocketClient({ url });
ws.on("ticker", (t) => {
  const ticker = tickerToProto(t);
  publish("ticker", t.market, ...encoded(StreamTickersResponseSchema, (snapshot) => ({ ticker, snapshot })));
});
ws.on("orderbook", (b) => {
  if (b.level !== 0) return;
  const orderbook = orderbookToProto(b);
  publish("orderbook", b.market, ...encoded(StreamOrderbooksResponseSchema, (snapshot) => ({ orderbook, snapshot })));
});
ws.setSubscriptions([
  { type: "ticker", codes: markets },
  { type: "orderbook", codes: markets },
]);

/** Every market of `kind` to `call`, whatever it asked for (the bench asks for all of them). */
function serve(kind: StreamKind): (call: Call) => void {
  return (call) => {
    const f = fanouts[kind];
    for (const snapshot of f.snapshots.values()) call.write(snapshot);
    f.calls.add(call);
    const drop = () => f.calls.delete(call);
    call.on("cancelled", drop);
    call.on("error", drop);
    call.on("close", drop);
  };
}

const passThrough = (b: Buffer) => b;
const definition: ServiceDefinition = grpcServiceDefinition(MarketDataService, { streamTickers: passThrough, streamOrderbooks: passThrough });
const server = new Server();
server.addService({ streamTickers: definition.streamTickers!, streamOrderbooks: definition.streamOrderbooks! }, { streamTickers: serve("ticker"), streamOrderbooks: serve("orderbook") });

/** Called once every market's ticker and book is known, so every call starts with its snapshots. */
function listen(): void {
  listening = true;
  server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    process.stdout.write(`${JSON.stringify({ event: "listening", address: `127.0.0.1:${port}` })}\n`);
  });
}
process.on("SIGTERM", () => {
  for (const f of Object.values(fanouts)) for (const call of f.calls) call.end();
  void ws.close();
  server.tryShutdown(() => process.exit(0));
});
