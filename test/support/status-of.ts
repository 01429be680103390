import { toServiceError } from "../../src/shared/grpc/status-mapping.js";
import { silentLogger } from "../../src/shared/logger.js";

/** The status and message the error `fn` throws would be answered with. */
export function answerOf(fn: () => unknown): { code: number | undefined; details: string | undefined } {
  try {
    fn();
  } catch (e) {
    const s = toServiceError(e, silentLogger, "test");
    return { code: s.code, details: s.details };
  }
  throw new Error("expected an error");
}
