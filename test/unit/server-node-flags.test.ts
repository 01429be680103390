import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SERVER_NODE_FLAGS } from "../../src/shared/server-node-flags.js";

const { scripts } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { scripts: Record<string, string> };

describe("the V8 flags of the gateway and the daemon", () => {
  it.each(["start", "daemon", "demo", "bench"])("npm run %s passes them to node, before the script", (name) => {
    const words = scripts[name]!.split(/\s+/);
    const script = words.findIndex((w) => w.endsWith(".ts"));
    expect(script).toBeGreaterThan(0);
    expect(words.slice(0, script)).toEqual(expect.arrayContaining([...SERVER_NODE_FLAGS]));
  });
});
