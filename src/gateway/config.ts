import { ConfigError } from "../shared/errors.js";
import { type LogLevel, logLevelFrom } from "../shared/logger.js";

/** Everything the gateway can be told; every field is documented in the README. */
export interface GatewayConfig {
  /** `host:port` the public gRPC API listens on. Default `127.0.0.1:50051` (`BACKBONE_LISTEN`). */
  listen: string;
  /** `info`, `warn`, `error` or `silent`. Default `info` (`BACKBONE_LOG_LEVEL`). */
  logLevel: LogLevel;
}

export function loadGatewayConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  const listen = env.BACKBONE_LISTEN ?? "127.0.0.1:50051";
  const match = /^(.+):(\d{1,5})$/.exec(listen);
  if (!match || Number(match[2]) > 65_535) throw new ConfigError("BACKBONE_LISTEN", listen, "must be host:port, e.g. 127.0.0.1:50051");
  return { listen, logLevel: logLevelFrom(env) };
}
