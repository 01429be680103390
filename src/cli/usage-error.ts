/**
 * The command line itself is wrong (unknown option, missing argument, a value that does not
 * parse): exit status 2 and a pointer to `--help`, as opposed to a failure the gateway reports.
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export function isUsageError(e: unknown): e is UsageError {
  return e instanceof UsageError;
}

/** The problem with `option`'s `value`, spelled the same way by every argument parser. */
export function badOptionValue(option: string, value: string, problem: string): UsageError {
  return new UsageError(`${option}: ${JSON.stringify(value)} ${problem}`);
}
