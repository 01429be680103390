import { ConfigError } from "../shared/errors.js";
import { createLogger } from "../shared/logger.js";
import { parseSimulatorArgs } from "./config.js";
import { createSimulator } from "./simulator.js";

let config;
try {
  config = parseSimulatorArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`upbit-sim: ${e instanceof ConfigError ? e.message : String(e)}\n`);
  process.exit(1);
}
const log = createLogger("upbit-sim");
const simulator = createSimulator(config, { log });
try {
  const { restUrl, wsUrl } = await simulator.start();
  process.stdout.write(`${JSON.stringify({ event: "listening", restUrl, wsUrl })}\n`);
} catch (e) {
  log.error("simulator failed to start", { error: e instanceof Error ? e.message : String(e) });
  process.exit(1);
}
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    log.info("stopping", { signal });
    void simulator.stop().then(() => process.exit(0));
  });
}
