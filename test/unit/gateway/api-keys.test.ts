import { Metadata, status } from "@grpc/grpc-js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ApiKey, CallerPolicy, parseApiKeys, peerHost } from "../../../src/gateway/api-keys.js";
import { ConfigError } from "../../../src/shared/errors.js";
import { StatusError } from "../../../src/shared/grpc/status-mapping.js";

const SOURCE = "/etc/backbone/keys";
const CHART_KEY = "chart-ui-key-0123456789";
const BOT_KEY = "Zk2m9Qv4Xr7Tb1Wn8Ld5Hs3Jf6Gp0Ce2==";

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("parseApiKeys", () => {
  it("reads key, max_priority and name per line, skipping comments and blank lines", () => {
    const text = `\uFEFF# key max_priority name\r\n${CHART_KEY}  NORMAL\tchart-ui\r\n\n   # indented comment\n  ${BOT_KEY} CRITICAL bot.1  \n`;
    const keys = parseApiKeys(text, SOURCE);
    expect(keys.map(({ name, maxPriority, line }) => ({ name, maxPriority, line }))).toEqual([
      { name: "chart-ui", maxPriority: "NORMAL", line: 2 },
      { name: "bot.1", maxPriority: "CRITICAL", line: 5 },
    ]);
    // Only digests are kept.
    for (const k of keys) expect(k.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(keys)).not.toContain(CHART_KEY);
  });

  it.each([
    [`${CHART_KEY} NORMAL`, "line 1: has 2 fields; expected 3: key max_priority name"],
    [`${CHART_KEY} NORMAL chart ui`, "line 1: has 4 fields; expected 3: key max_priority name"],
    ["short-key NORMAL chart", "line 1: the key (field 1) has 9 characters; keys need at least 16"],
    [`${"k".repeat(257)} NORMAL chart`, "line 1: the key (field 1) has 257 characters; keys may have at most 256"],
    ["chart-ui-key-01234567#9 NORMAL chart", "line 1: the key (field 1) may hold only A-Z a-z 0-9 - . _ ~ + / and trailing = padding"],
    ["chart-ui-key=0123456789 NORMAL chart", "line 1: the key (field 1) may hold only"],
    [`${CHART_KEY} normal chart`, "line 1: max_priority (field 2) must be CRITICAL, HIGH, NORMAL, LOW"],
    [`${CHART_KEY} URGENT chart`, "line 1: max_priority (field 2) must be CRITICAL, HIGH, NORMAL, LOW"],
    [`${CHART_KEY} NORMAL chart/ui`, "line 1: the name (field 3) must be 1 to 64 characters of A-Z a-z 0-9 - . _"],
    [`${CHART_KEY} NORMAL ${"n".repeat(65)}`, "line 1: the name (field 3) must be 1 to 64"],
    [`# keys\n${CHART_KEY} NORMAL a\n${CHART_KEY} LOW b`, "line 3: the key repeats the key of line 2"],
    [`${CHART_KEY} NORMAL a\n${BOT_KEY} LOW a`, "line 2: the name repeats the name of line 1"],
    ["", "lists no key; unset BACKBONE_API_KEYS_FILE to serve without keys"],
    ["# only a comment\n\n", "lists no key"],
  ])("refuses %j: %s", (text, problem) => {
    const e = configError(() => parseApiKeys(text, SOURCE));
    expect(e.message).toContain(`BACKBONE_API_KEYS_FILE="${SOURCE}": ${problem}`);
  });

  it("never repeats a field of the file in its messages, whichever field is wrong", () => {
    // A key in the priority's place (fields swapped) must not reach a log.
    const swapped = configError(() => parseApiKeys(`chart-ui NORMAL ${CHART_KEY}`, SOURCE));
    expect(swapped.message).not.toContain("chart-ui");
    const misplaced = configError(() => parseApiKeys(`${BOT_KEY.slice(0, 20)} ${CHART_KEY} chart`, SOURCE));
    expect(misplaced.message).not.toContain(CHART_KEY);
  });

  it("answers any text with keys or a ConfigError, never another error, and never quotes the text", () => {
    const token = fc.oneof(
      fc.constantFrom("CRITICAL", "HIGH", "NORMAL", "LOW", "#", "=", "name", CHART_KEY, BOT_KEY),
      fc.string({ maxLength: 40 }),
      fc.string({ unit: fc.constantFrom(..."abcXYZ019-._~+/=#"), minLength: 14, maxLength: 20 }),
    );
    const line = fc.array(token, { maxLength: 5 }).chain((tokens) => fc.constantFrom(" ", "\t", "  ").map((sep) => tokens.join(sep)));
    const file = fc.oneof(
      fc.array(line, { maxLength: 8 }).chain((lines) => fc.constantFrom("\n", "\r\n").map((eol) => lines.join(eol))),
      fc.string({ unit: "binary", maxLength: 200 }),
    );
    fc.assert(
      fc.property(file, (text) => {
        let keys: ApiKey[];
        try {
          keys = parseApiKeys(text, SOURCE);
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigError);
          const problem = (e as ConfigError).message.slice(`BACKBONE_API_KEYS_FILE="${SOURCE}": `.length);
          // No field of 16 or more characters (a possible key) appears in the message.
          for (const field of text.split(/\s+/).filter((f) => f.length >= 16)) expect(problem).not.toContain(field);
          return;
        }
        expect(keys.length).toBeGreaterThan(0);
        expect(new Set(keys.map((k) => k.digest)).size).toBe(keys.length);
        expect(new Set(keys.map((k) => k.name)).size).toBe(keys.length);
      }),
      { numRuns: 1_000 },
    );
  });

  it("reads back every file written in its format", () => {
    const entry = fc.record({
      key: fc.string({ unit: fc.constantFrom(..."ABCxyz0189-._~+/"), minLength: 16, maxLength: 64 }),
      priority: fc.constantFrom("CRITICAL", "HIGH", "NORMAL", "LOW"),
      name: fc.string({ unit: fc.constantFrom(..."abcXYZ019-._"), minLength: 1, maxLength: 64 }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(entry, { minLength: 1, maxLength: 10, selector: (e) => e.key }).filter((es) => new Set(es.map((e) => e.name)).size === es.length), (entries) => {
        const keys = parseApiKeys(entries.map((e) => `${e.key} ${e.priority} ${e.name}`).join("\n"), SOURCE);
        expect(keys.map((k) => [k.name, k.maxPriority])).toEqual(entries.map((e) => [e.name, e.priority]));
      }),
    );
  });
});

describe("CallerPolicy", () => {
  const keys = parseApiKeys(`${CHART_KEY} NORMAL chart-ui\n${BOT_KEY} CRITICAL bot`, SOURCE);
  const policy = new CallerPolicy(keys);

  function metadata(entries: Record<string, string>): Metadata {
    const m = new Metadata();
    for (const [k, v] of Object.entries(entries)) m.set(k, v);
    return m;
  }

  function refusal(fn: () => unknown): StatusError {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(StatusError);
      return e as StatusError;
    }
    throw new Error("expected a StatusError");
  }

  it("lets anyone call without keys, as its peer host, with no ceiling", () => {
    const open = new CallerPolicy(undefined);
    expect(open.requiresKeys).toBe(false);
    expect(open.identify(new Metadata(), "127.0.0.1:53211")).toEqual({ client: "peer 127.0.0.1" });
  });

  it("knows a key sent as a Bearer token or as x-api-key, with its ceiling", () => {
    expect(policy.requiresKeys).toBe(true);
    expect(policy.identify(metadata({ authorization: `Bearer ${CHART_KEY}` }), "127.0.0.1:1")).toEqual({ client: 'API key "chart-ui"', ceiling: "NORMAL" });
    expect(policy.identify(metadata({ authorization: `bearer  ${BOT_KEY} ` }), "127.0.0.1:1")).toEqual({ client: 'API key "bot"', ceiling: "CRITICAL" });
    expect(policy.identify(metadata({ "x-api-key": BOT_KEY }), "127.0.0.1:1")).toEqual({ client: 'API key "bot"', ceiling: "CRITICAL" });
  });

  it.each([
    [{}, "missing API key: send `authorization: Bearer <key>` or `x-api-key: <key>`"],
    [{ "x-api-key": "  " }, "missing API key: send `authorization: Bearer <key>` or `x-api-key: <key>`"],
    [{ authorization: `Bearer ${CHART_KEY}x` }, "unknown API key"],
    [{ "x-api-key": "not-a-key-of-ours-at-all" }, "unknown API key"],
    [{ authorization: `Basic ${CHART_KEY}` }, "authorization: expected `Bearer <API key>`"],
    [{ authorization: `Bearer ${CHART_KEY} extra` }, "authorization: expected `Bearer <API key>`"],
  ])("refuses %o UNAUTHENTICATED without repeating the key", (entries, message) => {
    const e = refusal(() => policy.identify(metadata(entries), "127.0.0.1:1"));
    expect(e.code).toBe(status.UNAUTHENTICATED);
    expect(e.message).toBe(message);
    expect(e.message).not.toContain(CHART_KEY);
  });

  it.each([
    ["127.0.0.1:5000", "127.0.0.1"],
    ["::1:5000", "::1"],
    ["[::1]:5000", "::1"],
    ["::ffff:10.0.0.2:5000", "10.0.0.2"],
    ["unknown", "unknown"],
  ])("takes the host of peer %s", (peer, host) => {
    expect(peerHost(peer)).toBe(host);
  });
});
