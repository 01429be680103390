import { isAbsolute } from "node:path";
import { ConfigError } from "./errors.js";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Accepts `unix:/abs/path` or a loopback `host:port`; anything else is a ConfigError. */
export function checkListenAddress(value: string, variable: string): string {
  if (value.startsWith("unix:")) {
    const path = value.slice("unix:".length).replace(/^\/\//, "");
    if (!isAbsolute(path)) throw new ConfigError(variable, value, "a unix socket needs an absolute path, e.g. unix:/run/backbone/storage.sock");
    return `unix:${path}`;
  }
  const match = /^(.+):(\d{1,5})$/.exec(value);
  if (!match || !LOOPBACK_HOSTS.has(match[1]!) || Number(match[2]) > 65_535) {
    throw new ConfigError(variable, value, "must be unix:/absolute/path or 127.0.0.1:PORT (loopback only)");
  }
  return value;
}
