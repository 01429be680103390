import { ConfigError } from "../shared/errors.js";
import { createLogger } from "../shared/logger.js";
import { loadStorageDaemonConfig } from "./config.js";
import { createStorageDaemon } from "./storage-daemon.js";

// Reads config, starts, and stops on SIGTERM/SIGINT. The bound address goes to stdout as one JSON
// line so a supervisor (the gateway, a test) can connect when port 0 was asked for.
let config;
try {
  config = loadStorageDaemonConfig(process.argv.slice(2), process.env);
} catch (e) {
  process.stderr.write(`storage daemon: ${e instanceof ConfigError ? e.message : String(e)}\n`);
  process.exit(1);
}
const log = createLogger("storage-daemon", config.logLevel);
const daemon = createStorageDaemon(config, { log });
try {
  const address = await daemon.start();
  process.stdout.write(`${JSON.stringify({ event: "listening", address })}\n`);
} catch (e) {
  log.error("storage daemon failed to start", { error: e instanceof Error ? e.message : String(e) });
  process.exit(1);
}

let stopping = false;
function stopOn(reason: string): void {
  if (stopping) return;
  stopping = true;
  log.info("stopping", { reason });
  daemon.stop().then(
    () => process.exit(0),
    (e: unknown) => {
      log.error("stop failed", { error: e instanceof Error ? e.message : String(e) });
      process.exit(1);
    },
  );
}
for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => stopOn(signal));
if (config.exitWithStdin) {
  process.stdin.on("close", () => stopOn("stdin closed"));
  process.stdin.resume();
}
