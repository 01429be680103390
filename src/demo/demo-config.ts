/**
 * What `npm run demo` can be told. The gateway and daemon settings are the gateway's own
 * (`BACKBONE_*`, see GatewayConfig); the demo adds the simulator's port and its own defaults.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../shared/errors.js";
import { DEFAULT_SIMULATOR_CONFIG } from "../upbit-sim/config.js";

export interface DemoConfig {
  /** Port of the in-process Upbit simulator; 0 picks a free one. Default 7070 (`--sim-port`, `BACKBONE_SIM_PORT`). */
  simPort: number;
  /** The daemon's data directory. Default `./data/demo` (`BACKBONE_DATA_DIR`), apart from `npm start`'s data. */
  dataDir: string;
  /** The environment the gateway config and the daemon are read from, with the demo's defaults filled in. */
  env: NodeJS.ProcessEnv;
}

export function loadDemoConfig(argv: string[], env: NodeJS.ProcessEnv): DemoConfig {
  let flags;
  try {
    flags = parseArgs({ args: argv, options: { "sim-port": { type: "string" } }, strict: true }).values;
  } catch (e) {
    throw new ConfigError("argv", argv.join(" "), e instanceof Error ? e.message : String(e));
  }
  const simPortVariable = flags["sim-port"] !== undefined ? "--sim-port" : "BACKBONE_SIM_PORT";
  const simPortText = flags["sim-port"] ?? env.BACKBONE_SIM_PORT ?? String(DEFAULT_SIMULATOR_CONFIG.port);
  const simPort = Number(simPortText);
  if (!/^\d{1,5}$/.test(simPortText) || simPort > 65_535) throw new ConfigError(simPortVariable, simPortText, "must be a port number from 0 to 65535");
  const dataDir = resolve(env.BACKBONE_DATA_DIR ?? "./data/demo");
  // JSON logs would bury the instructions the demo prints; warnings and errors still show.
  return { simPort, dataDir, env: { ...env, BACKBONE_DATA_DIR: dataDir, BACKBONE_LOG_LEVEL: env.BACKBONE_LOG_LEVEL ?? "warn" } };
}
