import { rmSync } from "node:fs";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { StorageService as StorageServiceDesc } from "../gen/backbone/storage/v1/storage_pb.js";
import { unary, serverStream } from "../shared/grpc/handlers.js";
import { widenServerFlowControl } from "../shared/grpc/server-flow-control.js";
import { grpcServiceDefinition } from "../shared/grpc/service-definition.js";
import { encodeReadBatch, type ReadBatch } from "./read-candles-encoding.js";
import type { Logger } from "../shared/logger.js";
import { ScratchBuffer } from "../shared/scratch-buffer.js";
import type { StorageDaemonConfig } from "./config.js";
import { DuckDBCandleStore } from "./duckdb-candle-store.js";
import { RealtimeCache } from "./realtime-cache.js";
import { formatRetentionRules } from "./retention-rules.js";
import { StorageService } from "./storage-service.js";
import { StoreMaintenance } from "./store-maintenance.js";

/** Largest request the daemon accepts: a write of ~1 M candles (56 bytes each) fits. */
export const MAX_REQUEST_BYTES = 64 * 1024 * 1024;
/** HTTP/2 flow-control window per connection and stream: a bulk write streams without stalls. */
const FLOW_CONTROL_WINDOW_BYTES = 16 * 1024 * 1024;
/** How long stop() lets calls in flight finish before cancelling them. */
export const GRACEFUL_SHUTDOWN_MS = 5_000;

export interface StorageDaemonDeps {
  log: Logger;
  /** Clock for the cache and for deciding which bucket is forming. Default Date.now. */
  now?: () => number;
}

export interface StorageDaemon {
  /** Opens the store and listens; resolves with the bound address (the real port when 0 was asked). */
  start(): Promise<string>;
  /** Lets calls in flight finish (cancelling streams after a grace period), checkpoints, closes. */
  stop(): Promise<void>;
}

export function createStorageDaemon(config: StorageDaemonConfig, deps: StorageDaemonDeps): StorageDaemon {
  const { log } = deps;
  const shutdown = new AbortController();
  let server: Server | undefined;
  let store: DuckDBCandleStore | undefined;
  let cache: RealtimeCache | undefined;
  let maintenance: StoreMaintenance | undefined;

  async function start(): Promise<string> {
    try {
      store = await DuckDBCandleStore.open(config.dataDir, { memoryLimit: config.duckdbMemoryLimit });
      cache = new RealtimeCache({
        ttlMs: { ticker: config.tickerTtlMs, orderbook: config.orderbookTtlMs, trades: config.tradesTtlMs },
        maxEntriesPerKind: config.cacheMaxMarkets,
        maxTradesPerMarket: config.cacheMaxTradesPerMarket,
        ...(deps.now ? { now: deps.now } : {}),
      });
      maintenance = new StoreMaintenance(store, config, deps.now ?? Date.now, log);
      const service = new StorageService(store, cache, deps.now, maintenance);
      server = new Server({
        "grpc.max_receive_message_length": MAX_REQUEST_BYTES,
        "grpc.max_send_message_length": MAX_REQUEST_BYTES,
      });
      const signal = shutdown.signal;
      const readBatchOut = new ScratchBuffer();
      const batches = store.batches;
      const encodeAndRecycle = (b: ReadBatch) => {
        const bytes = encodeReadBatch(b, readBatchOut);
        batches.giveBack(b.candles);
        return bytes;
      };
      server.addService(grpcServiceDefinition(StorageServiceDesc, { readCandles: encodeAndRecycle }), {
        writeCandles: unary(log, "WriteCandles", signal, (req) => service.writeCandles(req)),
        readCandles: serverStream(log, "ReadCandles", signal, async (req, send, ctx) => {
          for await (const batch of service.readCandles(req, ctx.signal)) await send(batch);
        }),
        getLatestCandles: unary(log, "GetLatestCandles", signal, (req) => service.getLatestCandles(req)),
        getMissing: unary(log, "GetMissing", signal, async (req) => service.getMissing(req)),
        putRealtime: unary(log, "PutRealtime", signal, async (req) => service.putRealtime(req)),
        getRealtime: unary(log, "GetRealtime", signal, async (req) => service.getRealtime(req)),
        stats: unary(log, "Stats", signal, () => service.stats()),
        maintain: unary(log, "Maintain", signal, (req) => service.maintain(req)),
      });
      // The DuckDB file lock is held by now, so a socket file left here belongs to a dead daemon.
      if (config.listen.startsWith("unix:")) rmSync(config.listen.slice("unix:".length), { force: true });
      const address = await bind(server, config.listen);
      widenServerFlowControl(server, FLOW_CONTROL_WINDOW_BYTES);
      maintenance.start();
      log.info("storage daemon listening", {
        address,
        dataDir: config.dataDir,
        retention: formatRetentionRules(config.retention) || "forever",
      });
      return address;
    } catch (e) {
      await stop();
      throw e;
    }
  }

  async function stop(): Promise<void> {
    const s = server;
    server = undefined;
    if (s) {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          shutdown.abort();
          s.forceShutdown();
          resolve();
        }, GRACEFUL_SHUTDOWN_MS);
        s.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
        // Streams have no natural end; ask them to finish so tryShutdown can complete.
        shutdown.abort();
      });
    }
    await maintenance?.stop();
    maintenance = undefined;
    cache?.close();
    cache = undefined;
    await store?.close();
    store = undefined;
  }

  return { start, stop };
}

function bind(server: Server, listen: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.bindAsync(listen, ServerCredentials.createInsecure(), (err, port) => {
      if (err) reject(err);
      else resolve(listen.startsWith("unix:") ? listen : listen.replace(/:\d+$/, `:${port}`));
    });
  });
}
