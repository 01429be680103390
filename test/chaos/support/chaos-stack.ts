import { afterAll, beforeAll } from "vitest";
import type { SyntheticExchange } from "../../../src/upbit-sim/exchange-model.js";
import { type GatewayOptions, type GatewayProcess, removeDataDir, type SimProcess, startGatewayProcess, startSimulatorProcess } from "./chaos-processes.js";
import { referenceExchange } from "./reference-exchange.js";

/** One scenario's processes; reading a field before the scenario's beforeAll has run throws. */
export interface ChaosStack {
  readonly sim: SimProcess;
  readonly gateway: GatewayProcess;
  /** The simulator's market universe, rebuilt here to know what it trades. */
  readonly exchange: SyntheticExchange;
}

/**
 * Registers the scenario's beforeAll (the simulator process, a reference of its exchange, the
 * gateway as `npm start` runs it with `options`) and afterAll (both stopped, the data directory
 * removed). A scenario's own afterAll, registered later, runs before this one.
 */
export function useChaosStack(options: GatewayOptions = {}): ChaosStack {
  let sim: SimProcess | undefined;
  let gateway: GatewayProcess | undefined;
  let exchange: SyntheticExchange | undefined;
  beforeAll(async () => {
    const startedAt = Date.now();
    sim = await startSimulatorProcess();
    exchange = referenceExchange(sim, startedAt);
    gateway = await startGatewayProcess(sim, options);
  });
  afterAll(async () => {
    await gateway?.stop();
    if (gateway) removeDataDir(gateway.dataDir);
    await sim?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the chaos stack has not started (used outside a test?)");
    return value;
  };
  return {
    get sim() {
      return started(sim);
    },
    get gateway() {
      return started(gateway);
    },
    get exchange() {
      return started(exchange);
    },
  };
}
