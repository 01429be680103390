import { Metadata, status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { EXIT } from "../../../src/cli/command.js";
import { isGatewayUnreachable, reportError } from "../../../src/cli/error-report.js";
import { UsageError } from "../../../src/cli/usage-error.js";

function grpcError(code: status, details: string): Error {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata: new Metadata() });
}

function report(e: unknown, command = "candles"): { code: number; text: string } {
  let text = "";
  const code = reportError(e, { command, gateway: "127.0.0.1:50051" }, { write: (s: string) => (text += s) });
  return { code, text };
}

describe("reportError", () => {
  it("prints the server's status and message and exits 1", () => {
    const e = grpcError(status.INVALID_ARGUMENT, 'market: "krw-btc" is not a market code');
    expect(report(e)).toEqual({ code: EXIT.failure, text: 'mdb: INVALID_ARGUMENT: market: "krw-btc" is not a market code\n' });
    expect(report(grpcError(status.UNAVAILABLE, "upstream rate limit: retry after 1000 ms")).text).toBe("mdb: UNAVAILABLE: upstream rate limit: retry after 1000 ms\n");
  });

  it("names the address when the gateway cannot be reached", () => {
    const e = grpcError(status.UNAVAILABLE, "No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:50051. Resolution note: ");
    expect(isGatewayUnreachable(e)).toBe(true);
    const { code, text } = report(e);
    expect(code).toBe(EXIT.failure);
    expect(text).toMatch(/^mdb: cannot reach the gateway at 127\.0\.0\.1:50051: No connection established\. Last error: Error: connect ECONNREFUSED 127\.0\.0\.1:50051\n/);
    expect(isGatewayUnreachable(grpcError(status.UNAVAILABLE, "Name resolution failed for target dns:nowhere:1"))).toBe(true);
    expect(isGatewayUnreachable(grpcError(status.UNAVAILABLE, "the storage daemon is restarting"))).toBe(false);
  });

  it("prints a usage error with a pointer to the command's --help and exits 2", () => {
    expect(report(new UsageError("missing TIMEFRAME"))).toEqual({ code: EXIT.usage, text: "mdb: missing TIMEFRAME\nRun 'mdb candles --help' for usage.\n" });
  });

  it("prints any other failure's message and exits 1", () => {
    expect(report(new Error("EACCES: permission denied, open '/out.csv.partial'"))).toEqual({ code: EXIT.failure, text: "mdb: EACCES: permission denied, open '/out.csv.partial'\n" });
  });
});
