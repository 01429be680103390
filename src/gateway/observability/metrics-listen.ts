import { ConfigError } from "../../shared/errors.js";
import { ALLOW_REMOTE_VARIABLE, allowRemoteFrom, isLoopbackHost } from "../security/listen-policy.js";

export const METRICS_LISTEN_VARIABLE = "BACKBONE_METRICS_LISTEN";
export const DEFAULT_METRICS_LISTEN = "127.0.0.1:9464";

/** Where `/metrics`, `/status.json` and the status page are served. */
export interface MetricsListen {
  /** For `server.listen`: without IPv6 brackets. */
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /**
   * True when `BACKBONE_METRICS_LISTEN` was set: failing to listen there is then an error. The
   * default address is best effort, so a second gateway on one machine still starts (with a warning).
   */
  explicit: boolean;
}

/**
 * `BACKBONE_METRICS_LISTEN`: `host:port` (default `127.0.0.1:9464`), or `off` for no metrics
 * server. Beyond loopback only with `BACKBONE_ALLOW_REMOTE=1`, as for the gRPC port: metrics
 * hold no secrets, but they tell who trades what and how much.
 */
export function metricsListenFrom(env: NodeJS.ProcessEnv): MetricsListen | undefined {
  const raw = env[METRICS_LISTEN_VARIABLE];
  if (raw === "off") return undefined;
  const value = raw === undefined || raw === "" ? DEFAULT_METRICS_LISTEN : raw;
  const match = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(value);
  if (!match || Number(match[2]) > 65_535) {
    throw new ConfigError(METRICS_LISTEN_VARIABLE, value, `must be host:port, e.g. ${DEFAULT_METRICS_LISTEN}, or off`);
  }
  const host = match[1]!;
  if (!isLoopbackHost(host) && !allowRemoteFrom(env)) {
    throw new ConfigError(METRICS_LISTEN_VARIABLE, value, `is not a loopback address; set ${ALLOW_REMOTE_VARIABLE}=1 to serve metrics to other machines`);
  }
  return { host: host.replace(/^\[(.*)\]$/, "$1"), port: Number(match[2]), explicit: raw !== undefined && raw !== "" };
}
