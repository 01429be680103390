import { isIPv4 } from "node:net";
import { ConfigError } from "../../shared/errors.js";

export const ALLOW_REMOTE_VARIABLE = "BACKBONE_ALLOW_REMOTE";

/** `localhost`, any 127.0.0.0/8 address, or `::1` (bracketed or not). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return h === "localhost" || h === "::1" || (isIPv4(h) && h.startsWith("127."));
}

/** `BACKBONE_ALLOW_REMOTE`: 1 allows a non-loopback listen address, 0 or unset does not. */
export function allowRemoteFrom(env: NodeJS.ProcessEnv): boolean {
  const raw = env[ALLOW_REMOTE_VARIABLE];
  if (raw === undefined || raw === "" || raw === "0") return false;
  if (raw === "1") return true;
  throw new ConfigError(ALLOW_REMOTE_VARIABLE, raw, "must be 1 (listen beyond loopback) or 0");
}

/**
 * The gateway listens on loopback unless told otherwise in so many words: `BACKBONE_LISTEN`
 * beyond loopback (0.0.0.0, ::, a LAN address, a host name) needs `BACKBONE_ALLOW_REMOTE=1`.
 * TLS is not required with it, since TLS may end at a proxy in front of the gateway; the gateway
 * warns at start when it serves beyond loopback without TLS or without API keys.
 */
export function checkPublicListen(host: string, listen: string, allowRemote: boolean): void {
  if (allowRemote || isLoopbackHost(host)) return;
  throw new ConfigError(
    "BACKBONE_LISTEN",
    listen,
    `is not a loopback address; set ${ALLOW_REMOTE_VARIABLE}=1 to serve other machines (and consider BACKBONE_TLS_CERT/BACKBONE_TLS_KEY and BACKBONE_API_KEYS_FILE)`,
  );
}
