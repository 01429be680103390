import { status } from "@grpc/grpc-js";
import { EXIT, type Terminal } from "./command.js";
import { isUsageError } from "./usage-error.js";

/** A failed gRPC call as grpc-js reports it. */
interface GrpcCallError {
  code: number;
  details: string;
}

function isGrpcCallError(e: unknown): e is GrpcCallError {
  return typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "number" && typeof (e as { details?: unknown }).details === "string";
}

/**
 * grpc-js reports a gateway it cannot connect to as UNAVAILABLE with these client-side details;
 * an UNAVAILABLE the gateway itself sends (Upbit blocking us) carries the server's message.
 */
const UNREACHABLE = /^(No connection established|Name resolution failed|Failed to connect|Connection dropped)/;

export function isGatewayUnreachable(e: unknown): boolean {
  return isGrpcCallError(e) && e.code === status.UNAVAILABLE && UNREACHABLE.test(e.details);
}

export interface ErrorScene {
  /** The command that ran, for the `--help` pointer; undefined for `mdb` itself. */
  command: string | undefined;
  /** The gateway address the command connected to, if it did. */
  gateway: string | undefined;
}

/**
 * Prints `e` on stderr the way `mdb` reports failures and returns the exit status: the server's
 * status and message for a gRPC error, the address for an unreachable gateway, the problem and
 * a pointer to `--help` for a usage error.
 */
export function reportError(e: unknown, scene: ErrorScene, stderr: Terminal): number {
  if (isUsageError(e)) {
    const help = scene.command === undefined ? "mdb --help" : `mdb ${scene.command} --help`;
    stderr.write(`mdb: ${e.message}\nRun '${help}' for usage.\n`);
    return EXIT.usage;
  }
  if (isGatewayUnreachable(e)) {
    const { details } = e as GrpcCallError;
    stderr.write(`mdb: cannot reach the gateway at ${scene.gateway ?? "?"}: ${details.replace(/\.? Resolution note: ?$/, "")}\n`);
    stderr.write("mdb: is it running? Point --gateway or BACKBONE_GATEWAY at it.\n");
    return EXIT.failure;
  }
  if (isGrpcCallError(e)) {
    stderr.write(`mdb: ${status[e.code] ?? `status ${e.code}`}: ${e.details}\n`);
    return EXIT.failure;
  }
  stderr.write(`mdb: ${e instanceof Error ? e.message : String(e)}\n`);
  return EXIT.failure;
}
