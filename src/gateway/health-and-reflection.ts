/**
 * The standard gRPC health service (`grpc.health.v1.Health`) and server reflection (v1 and
 * v1alpha) on the gateway's port, so grpcurl, Postman and load balancers work without the .proto
 * files. Connect and gRPC-Web are not served: grpc-js does not speak them, and a proxy (Envoy)
 * in front is the usual answer.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Server, ServerWritableStream, UntypedServiceImplementation } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation, protoPath as healthProtoPath, type ServingStatus } from "grpc-health-check";

/** The public service's full name, as health checks and reflection name it. */
export const PUBLIC_SERVICE_NAME = "backbone.marketdata.v1.MarketDataService";
export const HEALTH_SERVICE_NAME = "grpc.health.v1.Health";
const PUBLIC_PROTO_FILE = "backbone/marketdata/v1/market_data.proto";
const HEALTH_PROTO_FILE = "health/v1/health.proto";

/** The names a health check may ask about: "" is the whole server, by convention. */
const CHECKED_NAMES = ["", PUBLIC_SERVICE_NAME] as const;

export interface HealthAndReflection {
  /** Reports SERVING for the server and the public service; call once the server listens. */
  serving(): void;
  /**
   * Reports NOT_SERVING, then ends open Watch streams: they never end by themselves and a
   * graceful shutdown waits for every open call.
   */
  shuttingDown(): void;
}

/**
 * The repository's `proto/` directory, found by walking up from this module, so it works from
 * any working directory and from a compiled `dist/` tree alike.
 */
export function findProtoDir(fromModuleUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(fromModuleUrl));
  for (;;) {
    const candidate = join(dir, "proto");
    if (existsSync(join(candidate, PUBLIC_PROTO_FILE))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find proto/${PUBLIC_PROTO_FILE} above ${fileURLToPath(fromModuleUrl)}`);
    dir = parent;
  }
}

/** Adds health (NOT_SERVING until `serving()`) and reflection of the public API and health to `server`. */
export function addHealthAndReflection(server: Server, protoDir: string = findProtoDir()): HealthAndReflection {
  const health = new HealthImplementation(Object.fromEntries(CHECKED_NAMES.map((name) => [name, "NOT_SERVING" as ServingStatus])));
  const openWatches = new Set<ServerWritableStream<unknown, unknown>>();
  // The library registers its handlers itself; pass it a server that notes each Watch call on the way.
  health.addToServer({
    addService: (definition, implementation: UntypedServiceImplementation) => {
      const watch = implementation.watch as (call: ServerWritableStream<unknown, unknown>) => void;
      server.addService(definition, {
        ...implementation,
        watch: (call: ServerWritableStream<unknown, unknown>) => {
          openWatches.add(call);
          call.on("cancelled", () => openWatches.delete(call));
          watch(call);
        },
      });
    },
  });

  // keepCase keeps the .proto field names (start_ms), which grpcurl's JSON mapping expects.
  const definitions = loadSync([PUBLIC_PROTO_FILE, HEALTH_PROTO_FILE], {
    includeDirs: [protoDir, dirname(dirname(dirname(healthProtoPath)))],
    keepCase: true,
  });
  new ReflectionService(definitions).addToServer(server);

  const setAll = (status: ServingStatus): void => {
    for (const name of CHECKED_NAMES) health.setStatus(name, status);
  };
  return {
    serving: () => setAll("SERVING"),
    shuttingDown: () => {
      setAll("NOT_SERVING");
      for (const call of openWatches) call.end();
      openWatches.clear();
    },
  };
}
