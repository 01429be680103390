import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/shared/errors.js";
import { DEFAULT_SIMULATOR_CONFIG, parseSimulatorArgs } from "../../../src/upbit-sim/config.js";

describe("parseSimulatorArgs", () => {
  it("has Upbit's defaults", () => {
    expect(parseSimulatorArgs([])).toEqual({ port: 7070, host: "127.0.0.1", seed: 1, rateLimit: 10, markets: 200, wsIdleTimeoutMs: 120_000 });
  });

  it("reads both flag spellings", () => {
    expect(
      parseSimulatorArgs(["--port", "0", "--host=0.0.0.0", "--seed", "42", "--rate-limit=5", "--markets", "30", "--ws-idle-timeout-ms=60000"]),
    ).toEqual({ port: 0, host: "0.0.0.0", seed: 42, rateLimit: 5, markets: 30, wsIdleTimeoutMs: 60_000 });
    expect(DEFAULT_SIMULATOR_CONFIG.port).toBe(7070);
  });

  it.each([
    [["--port", "70000"], /--port="70000"/],
    [["--port", "abc"], /integer/],
    [["--rate-limit", "0"], /--rate-limit/],
    [["--markets", "-3"], /--markets/],
    [["--seed", "1.5"], /--seed/],
    [["--ws-idle-timeout-ms", "10"], /--ws-idle-timeout-ms/],
    [["--host", "a b"], /--host/],
    [["--port"], /needs a value/],
    [["--verbose"], /unknown flag/],
  ])("refuses %j with a ConfigError naming the flag", (argv, message) => {
    expect(() => parseSimulatorArgs(argv)).toThrow(ConfigError);
    expect(() => parseSimulatorArgs(argv)).toThrow(message);
  });
});
