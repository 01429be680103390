import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fixedDecimalText } from "../../../src/shared/decimal-text.js";
import {
  RawJson,
  amount,
  compactDateText,
  compactTimeText,
  KST_OFFSET_MS,
  kstDateTimeText,
  plainNumberText,
  rate,
  utcDateText,
  utcDateTimeText,
  utcTimeText,
  writeJson,
} from "../../../src/upbit-sim/upbit-json.js";

describe("Upbit number spelling", () => {
  it.each([
    [103600000, "103600000.00000000"],
    [1.5933512, "1.59335120"],
    [0.0256597, "0.02565970"],
    [4.843e-5, "0.00004843"],
    [1037920143.55117, "1037920143.55117000"],
    [-1043000, "-1043000.00000000"],
    [0, "0.00000000"],
    [17343033068679.969, "17343033068679.96900000"],
  ])("writes %s with 8 fractional digits as %s", (n, text) => {
    expect(amount(n).text).toBe(text);
  });

  it("rounds what has more digits than the spelling carries", () => {
    expect(fixedDecimalText(0.123456789, 8)).toBe("0.12345679");
    expect(rate(0.01018385621234).text).toBe("0.0101838562");
  });

  it.each([
    [116233000, "116233000"],
    [0.004, "0.004"],
    [1e-8, "0.00000001"],
    [1.2345e-7, "0.00000012345"],
    [0, "0"],
  ])("writes %s plainly as %s (orderbook)", (n, text) => {
    expect(plainNumberText(n)).toBe(text);
  });

  it("keeps the value of every spelled number", () => {
    fc.assert(
      fc.property(fc.double({ min: -1e12, max: 1e12, noNaN: true }), (n) => {
        // === rather than toBe: -0 is written as 0, which is the same JSON number.
        expect(Number(plainNumberText(n)) === n).toBe(true);
        const fixed = fixedDecimalText(n, 8);
        expect(fixed).toMatch(/^-?\d+\.\d{8}$/);
        expect(Math.abs(Number(fixed) - n)).toBeLessThanOrEqual(5e-9 + Math.abs(n) * 1e-15);
      }),
    );
  });
});

describe("writeJson", () => {
  it("writes bigints digit for digit and raw numbers verbatim", () => {
    const text = writeJson([{ sequential_id: 17303368620800006n, price: new RawJson("1.50000000"), s: 'a"b', ok: true, no: null }]);
    expect(text).toBe('[{"sequential_id":17303368620800006,"price":1.50000000,"s":"a\\"b","ok":true,"no":null}]');
  });

  it("agrees with JSON.stringify on plain values", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (v) => {
        const text = writeJson(v as Parameters<typeof writeJson>[0]);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(v)));
      }),
    );
  });
});

describe("date and time strings", () => {
  const t = Date.UTC(2026, 2, 11, 14, 40, 59, 95);
  it("spells UTC and KST the Upbit way", () => {
    expect(utcDateTimeText(t)).toBe("2026-03-11T14:40:59");
    expect(kstDateTimeText(t)).toBe("2026-03-11T23:40:59");
    expect(utcDateText(t)).toBe("2026-03-11");
    expect(utcTimeText(t)).toBe("14:40:59");
    expect(compactDateText(t)).toBe("20260311");
    expect(compactTimeText(t)).toBe("144059");
    expect(compactDateText(t, KST_OFFSET_MS)).toBe("20260311");
    expect(compactTimeText(Date.UTC(2026, 2, 11, 20, 0, 0), KST_OFFSET_MS)).toBe("050000");
    expect(compactDateText(Date.UTC(2026, 2, 11, 20, 0, 0), KST_OFFSET_MS)).toBe("20260312");
  });
});
