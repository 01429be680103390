import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * Debian's Python, the one examples/python/install-deps.sh gives gRPC: a `python3` earlier on
 * PATH (pyenv's, say) has no grpc module.
 */
export const PYTHON = "/usr/bin/python3";
export const EXAMPLES = fileURLToPath(new URL("../../examples/python/", import.meta.url));

export interface ProgramRun {
  /** Exit code; null when a signal ended the program. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** The last stdout line, which every example program writes as one JSON object. */
  summary: Record<string, unknown>;
}

/** Runs a shell script of examples/python to its end; rejects with its output when it fails. */
export function runScript(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile("bash", [EXAMPLES + script, ...args], (error, stdout, stderr) =>
      error ? reject(new Error(`${script} failed (${error.message}):\n${stdout}${stderr}`)) : resolve(stdout),
    ),
  );
}

/**
 * Runs one example program with `genDir` as its stubs folder (and `env` on top), to its end. A program that hangs
 * is ended once the test's own timeout is near, so its output still shows in the failure.
 */
export function runProgram(program: string, args: string[], genDir: string, env: Record<string, string> = {}): Promise<ProgramRun> {
  return new Promise((resolve, reject) =>
    execFile(
      PYTHON,
      [EXAMPLES + program, ...args],
      { env: { ...process.env, BACKBONE_PY_GEN: genDir, PYTHONDONTWRITEBYTECODE: "1", ...env }, timeout: 50_000, killSignal: "SIGKILL" },
      (error, stdout, stderr) => {
        // `error` is set for any non-zero exit; the code and output say everything the test needs.
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        try {
          resolve({ code, stdout, stderr, summary: lastJsonLine(program, stdout, stderr) });
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      },
    ),
  );
}

function lastJsonLine(program: string, stdout: string, stderr: string): Record<string, unknown> {
  const last = stdout.trimEnd().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(last) as Record<string, unknown>;
  } catch {
    throw new Error(`${program}: the last stdout line is not JSON:\n--- stdout\n${stdout}\n--- stderr\n${stderr}`);
  }
}
