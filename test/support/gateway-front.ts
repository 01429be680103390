/**
 * A second gateway front over a stack's dependencies (same simulator client, same daemon), for
 * tests that need to tune or watch what the stack's own gateway does not expose: its own realtime
 * hub with test timings, a clock the test sets, or handlers built with test options.
 */
import { Server, ServerCredentials, type ServiceError, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { MarketDataService } from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { publicServiceDefinition } from "../../src/gateway/gateway.js";
import type { GatewayDeps } from "../../src/gateway/gateway-deps.js";
import { marketDataService } from "../../src/gateway/market-data-service.js";
import { RealtimeHub, type RealtimeHubTuning } from "../../src/gateway/realtime/realtime-hub.js";
import { createGrpcClient, type GrpcClient } from "../../src/shared/grpc/client.js";
import { silentLogger } from "../../src/shared/logger.js";
import type { Stack } from "./gateway-stack.js";

export interface FrontOptions {
  /** A hub of the front's own with these timings (the stack's hub otherwise). */
  hub?: Partial<RealtimeHubTuning>;
  /** The front's clock (the stack's otherwise). */
  now?: () => number;
  /** Handlers replacing the routed ones, e.g. a stream built with test options. */
  handlers?: (deps: GatewayDeps, shutdown: AbortSignal) => UntypedServiceImplementation;
}

export interface Front {
  readonly client: GrpcClient<typeof MarketDataService>;
  readonly deps: GatewayDeps;
  readonly hub: RealtimeHub;
  readonly address: string;
  /** As the gateway stops: refuse new calls, end the streams by closing the front's hub, drain. */
  close(): Promise<void>;
}

export async function startFront(stack: Stack, options: FrontOptions = {}): Promise<Front> {
  const base = stack.gateway.deps;
  const now = options.now ?? base.now;
  const ownHub = options.hub === undefined ? undefined : new RealtimeHub({ url: stack.wsUrl, store: base.store, log: silentLogger, now, ...options.hub });
  const deps: GatewayDeps = { ...base, now, hub: ownHub ?? base.hub };
  const shutdown = new AbortController();
  const server = new Server();
  server.addService(publicServiceDefinition(), { ...marketDataService(deps, shutdown.signal, { maxMs: 0, p99Ms: 0, busyMaxMs: 0, busyBlocks: [] }), ...options.handlers?.(deps, shutdown.signal) });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const address = `127.0.0.1:${port}`;
  const client = createGrpcClient(MarketDataService, address);
  return {
    client,
    deps,
    hub: deps.hub,
    address,
    close: async () => {
      const drained = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      if (ownHub) {
        await ownHub.close();
        await drained;
      }
      // Streams on the stack's hub never end by themselves: cancel whatever is left.
      shutdown.abort();
      server.forceShutdown();
      client.close();
    },
  };
}

/** The status a stream ends with, or undefined if it ended OK; its messages are drained unread. */
export async function streamEnd(stream: AsyncIterable<unknown>): Promise<ServiceError | undefined> {
  try {
    for await (const _ of stream) {
      // Draining: only the end matters.
    }
    return undefined;
  } catch (e) {
    return e as ServiceError;
  }
}
