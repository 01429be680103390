import { ConfigError } from "../../shared/errors.js";

/** Where the gateway finds Upbit: the real exchange by default, a simulator in tests and demos. */
export interface UpstreamConfig {
  /** REST origin (optionally with a path prefix), without `/v1` and without a trailing slash. Default `https://api.upbit.com` (`UPBIT_REST_URL`). */
  restUrl: string;
  /** Public WebSocket URL. Default `wss://api.upbit.com/websocket/v1` (`UPBIT_WS_URL`). */
  wsUrl: string;
}

export const DEFAULT_REST_URL = "https://api.upbit.com";
export const DEFAULT_WS_URL = "wss://api.upbit.com/websocket/v1";

export function loadUpstreamConfig(env: NodeJS.ProcessEnv): UpstreamConfig {
  return {
    restUrl: restUrlFrom(env.UPBIT_REST_URL ?? DEFAULT_REST_URL),
    wsUrl: wsUrlFrom(env.UPBIT_WS_URL ?? DEFAULT_WS_URL),
  };
}

function parse(variable: string, value: string, protocols: readonly string[], example: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(variable, value, `is not a URL; expected e.g. ${example}`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(variable, value, `must use ${protocols.map((p) => p.replace(":", "")).join(" or ")}, e.g. ${example}`);
  }
  if (url.username !== "" || url.password !== "") throw new ConfigError(variable, value, "must not carry credentials");
  if (url.search !== "" || url.hash !== "") throw new ConfigError(variable, value, "must not have a query or fragment");
  return url;
}

function restUrlFrom(value: string): string {
  const url = parse("UPBIT_REST_URL", value, ["https:", "http:"], DEFAULT_REST_URL);
  const path = url.pathname.replace(/\/+$/, "");
  // The client adds /v1/...; a base ending in /v1 would request /v1/v1/... and get 404s.
  if (/\/v1$/i.test(path)) throw new ConfigError("UPBIT_REST_URL", value, `must not include /v1 (the client adds it), e.g. ${DEFAULT_REST_URL}`);
  return `${url.origin}${path}`;
}

function wsUrlFrom(value: string): string {
  const url = parse("UPBIT_WS_URL", value, ["wss:", "ws:"], DEFAULT_WS_URL);
  return url.href;
}
