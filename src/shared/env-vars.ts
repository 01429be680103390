import { ConfigError } from "./errors.js";

/** A positive integer from `env[variable]`, `fallback` when unset or empty; anything else is a ConfigError. */
export function positiveIntFrom(env: NodeJS.ProcessEnv, variable: string, fallback: number): number {
  const raw = env[variable];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new ConfigError(variable, raw, "must be a positive integer");
  return n;
}
