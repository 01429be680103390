import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { gatewayConnection } from "../../../src/cli/gateway-connection.js";
import { isUsageError } from "../../../src/cli/usage-error.js";
import { removeDir, tempDir } from "../../support/daemon-process.js";

describe("gatewayConnection", () => {
  const dir = tempDir("mdb-conn-");
  afterAll(() => removeDir(dir));

  it("is plaintext and keyless by default", () => {
    const c = gatewayConnection({});
    expect(c.credentials._isSecure()).toBe(false);
    expect(c.channelOptions).toEqual({});
  });

  it("speaks TLS with BACKBONE_GATEWAY_CA and sends BACKBONE_API_KEY on every call", () => {
    const ca = join(dir, "ca.pem");
    writeFileSync(ca, "not checked until a connection is made");
    const c = gatewayConnection({ BACKBONE_GATEWAY_CA: ca, BACKBONE_API_KEY: "chart-ui-0123456789abcdef" });
    expect(c.credentials._isSecure()).toBe(true);
    expect(c.channelOptions.interceptors).toHaveLength(1);
  });

  it.each([
    [{ BACKBONE_GATEWAY_CA: "/nonexistent/ca.pem" }, /^BACKBONE_GATEWAY_CA: cannot read "\/nonexistent\/ca.pem"/],
    [{ BACKBONE_API_KEY: "two words" }, /^BACKBONE_API_KEY: an API key has no spaces$/],
  ])("refuses %o as a usage error naming the variable", (env, message) => {
    let error: unknown;
    try {
      gatewayConnection(env);
    } catch (e) {
      error = e;
    }
    expect(isUsageError(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
  });
});
