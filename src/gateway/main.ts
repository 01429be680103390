import { ConfigError } from "../shared/errors.js";
import { createLogger } from "../shared/logger.js";
import { loadGatewayConfig } from "./config.js";
import { createGateway } from "./gateway.js";

let config;
try {
  config = loadGatewayConfig(process.env);
} catch (e) {
  process.stderr.write(`gateway: ${e instanceof ConfigError ? e.message : String(e)}\n`);
  process.exit(1);
}
const log = createLogger("gateway", config.logLevel);
const gateway = createGateway(config, { log });
try {
  const address = await gateway.start();
  process.stdout.write(`${JSON.stringify({ event: "listening", address })}\n`);
} catch (e) {
  log.error("gateway failed to start", { error: e instanceof Error ? e.message : String(e) });
  process.exit(1);
}
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    log.info("stopping", { signal });
    void gateway.stop().then(() => process.exit(0));
  });
}
