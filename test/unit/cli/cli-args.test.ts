import { describe, expect, it } from "vitest";
import { type CommandSpec, commandHelp, type OptionSpecs, parseCommandLine, programHelp, wantsHelp } from "../../../src/cli/cli-args.js";
import { UsageError } from "../../../src/cli/usage-error.js";
import { COMMANDS } from "../../../src/cli/run-cli.js";

const options = {
  count: { type: "string", value: "N", description: "how many" },
  watch: { type: "boolean", short: "w", description: "keep going" },
} as const satisfies OptionSpecs;

const spec: CommandSpec<typeof options> = {
  name: "demo",
  summary: "A command for tests.",
  synopsis: ["MARKET [--count N]"],
  arguments: [{ name: "MARKET", description: "a market" }],
  options,
  examples: ["mdb demo KRW-BTC --count 3"],
};

describe("parseCommandLine", () => {
  it("reads options, short flags and --gateway, in any order around the arguments", () => {
    const { values, positionals } = parseCommandLine(spec, ["--count", "3", "KRW-BTC", "-w", "--gateway=127.0.0.1:1"]);
    expect(positionals).toEqual(["KRW-BTC"]);
    expect(values).toMatchObject({ count: "3", watch: true, gateway: "127.0.0.1:1" });
  });

  it("turns every malformed command line into a UsageError", () => {
    const bad = [["KRW-BTC", "--nope"], ["KRW-BTC", "--count"], ["KRW-BTC", "--watch=yes"], [], ["KRW-BTC", "extra"]];
    for (const argv of bad) expect(() => parseCommandLine(spec, argv), argv.join(" ")).toThrow(UsageError);
    expect(() => parseCommandLine(spec, [])).toThrow("missing MARKET");
    expect(() => parseCommandLine(spec, ["KRW-BTC", "extra"])).toThrow('unexpected argument "extra"');
  });

  it("sees --help and -h only before a -- terminator", () => {
    expect(wantsHelp(["KRW-BTC", "-h"])).toBe(true);
    expect(wantsHelp(["--help"])).toBe(true);
    expect(wantsHelp(["--", "--help"])).toBe(false);
    expect(wantsHelp(["KRW-BTC"])).toBe(false);
  });

  it("documents every option, --gateway and --help in a command's help", () => {
    const help = commandHelp(spec);
    expect(help).toContain("mdb demo MARKET [--count N]");
    expect(help).toMatch(/--count N\s+how many/);
    expect(help).toMatch(/-w, --watch\s+keep going/);
    expect(help).toMatch(/--gateway ADDR\s+gateway address/);
    expect(help).toMatch(/-h, --help\s+show this help/);
  });

  it("lists every command of mdb in the program help, and each command's help names all its options", () => {
    const help = programHelp(COMMANDS.map((c) => c.spec));
    for (const c of COMMANDS) {
      expect(help).toContain(`  ${c.spec.name} `);
      const own = commandHelp(c.spec);
      for (const name of Object.keys(c.spec.options)) expect(own, `${c.spec.name} --${name}`).toContain(`--${name}`);
    }
  });
});
