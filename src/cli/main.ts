import { EXIT } from "./command.js";
import { runCli } from "./run-cli.js";

// `mdb`: runs one command line against the gateway. The first Ctrl-C (or SIGTERM) asks the
// command to stop (a watch ends with 0, a fetch removes its partial file); a second one exits now.

const stop = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stop.signal.aborted) process.exit(EXIT.interrupted);
    stop.abort(new Error(`${signal} received`));
  });
}
// A reader that goes away (`mdb markets | head`) is not an error of ours.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(EXIT.ok);
  process.stderr.write(`mdb: cannot write to stdout: ${e.message}\n`);
  process.exit(EXIT.failure);
});

const code = await runCli({ argv: process.argv.slice(2), env: process.env, stdout: process.stdout, stderr: process.stderr, signal: stop.signal });
// Exit only once everything written has reached stdout and stderr: a pipe may still be draining.
await Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((resolve) => s.write("", () => resolve()))));
process.exit(code);
