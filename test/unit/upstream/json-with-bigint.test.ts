import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isJsonSyntaxError, parseJsonWithBigInt, type JsonValue } from "../../../src/gateway/upstream/json-with-bigint.js";

const IDS = new Set(["sequential_id"]);

function jsonParseOrError(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

describe("parseJsonWithBigInt", () => {
  it("reads ids above 2^53 exactly where JSON.parse rounds them", () => {
    // Above 2^53 doubles are 2 apart, so an odd id cannot survive JSON.parse.
    const text = '[{"market":"KRW-BTC","sequential_id":17303368620800007,"trade_price":103460000.00000000}]';
    expect(BigInt((JSON.parse(text) as Array<{ sequential_id: number }>)[0]?.sequential_id ?? 0)).not.toBe(17303368620800007n);
    expect(parseJsonWithBigInt(text, { bigintKeys: IDS })).toEqual([{ market: "KRW-BTC", sequential_id: 17303368620800007n, trade_price: 103460000 }]);
  });

  it("returns bigint only for integers under the chosen keys", () => {
    const value = parseJsonWithBigInt('{"sequential_id":7,"other":17303368620800006,"nested":{"sequential_id":1.5},"s":"sequential_id"}', {
      bigintKeys: IDS,
    });
    expect(value).toEqual({ sequential_id: 7n, other: 17303368620800006, nested: { sequential_id: 1.5 }, s: "sequential_id" });
    expect(parseJsonWithBigInt('{"sequential_id":17303368620800006}')).toEqual({ sequential_id: 17303368620800006 });
  });

  it("keeps __proto__ as an own property, as JSON.parse does", () => {
    const value = parseJsonWithBigInt('{"__proto__":{"polluted":true}}') as Record<string, JsonValue>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, "__proto__")).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("refuses nesting deeper than maxDepth with a syntax error, not a stack overflow", () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    expect(() => parseJsonWithBigInt(deep)).toThrow(/nesting deeper than 64/);
    expect(parseJsonWithBigInt("[[[1]]]", { maxDepth: 3 })).toEqual([[[1]]]);
    expect(() => parseJsonWithBigInt("[[[1]]]", { maxDepth: 2 })).toThrow(/nesting/);
  });

  it.each(["", " ", "[", "[1,]", "{\"a\":}", "{\"a\" 1}", "01", "1.", ".5", "+1", "-", "1e", "tru", "nul", '"abc', '"\\x"', '"\\u12G4"', '"a\nb"', "[1] x", "{'a':1}", "NaN"])(
    "rejects %j like JSON.parse does",
    (text) => {
      expect(() => JSON.parse(text)).toThrow();
      let caught: unknown;
      try {
        parseJsonWithBigInt(text);
      } catch (e) {
        caught = e;
      }
      expect(isJsonSyntaxError(caught)).toBe(true);
    },
  );

  it("agrees with JSON.parse on any JSON text (property)", () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 6 }), (text) => {
        expect(parseJsonWithBigInt(text)).toEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it("agrees with JSON.parse on whether arbitrary text is JSON (property)", () => {
    const alphabet = fc.constantFrom(..."{}[],:\"\\ 0123456789-+.eEtrufalsn\nu\t".split(""));
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: alphabet, maxLength: 30 }), fc.json().chain((j) => fc.nat({ max: j.length }).map((n) => j.slice(0, n)))), (text) => {
        const expected = jsonParseOrError(text);
        if (expected.ok) {
          expect(parseJsonWithBigInt(text)).toEqual(expected.value);
        } else {
          expect(() => parseJsonWithBigInt(text)).toThrow(expect.objectContaining({ name: "JsonSyntaxError" }));
        }
      }),
      { numRuns: 1_000 },
    );
  });
});
