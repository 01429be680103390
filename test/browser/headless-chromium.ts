/**
 * Debian's Chromium (scripts/install-chromium.sh) run headless from the command line: nothing
 * downloaded through npm, no DevTools protocol client, just the flags Chromium itself offers for
 * a rendered DOM (`--dump-dom`) and a screenshot (`--screenshot`).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const CHROMIUM = "/usr/bin/chromium";

/** Flags for a quiet, offline, throw-away browser; `--no-sandbox` because CI runs as root. */
const BASE_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-dev-shm-usage",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--window-size=1280,1000",
  // Virtual time runs the page's timers (its 2-s refresh) without waiting for them in real time,
  // and lets Chromium stop once the page has settled: no sleeping in the test.
  "--virtual-time-budget=5000",
];

export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run scripts/install-chromium.sh (Debian's chromium package) first`);
}

/** Runs Chromium on `url` with `flags` in a new profile; resolves with its stdout once it exits 0. */
export async function runChromium(url: string, flags: readonly string[]): Promise<string> {
  requireChromium();
  const profile = mkdtempSync(join(tmpdir(), "mdb-chromium-"));
  try {
    return await new Promise<string>((resolve, reject) => {
      const child = spawn(CHROMIUM, [...BASE_FLAGS, `--user-data-dir=${profile}`, ...flags, url], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
      child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
      child.once("error", reject);
      child.once("exit", (code, signal) => {
        if (code === 0) resolve(stdout);
        else reject(new Error(`chromium exited with ${code ?? signal}:\n${stderr.slice(-4_000)}`));
      });
    });
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The rendered DOM after the page's scripts ran. */
export function renderedDom(url: string): Promise<string> {
  return runChromium(url, ["--dump-dom"]);
}

/** Saves a PNG of the page as rendered to `file`. */
export async function screenshot(url: string, file: string): Promise<void> {
  await runChromium(url, [`--screenshot=${file}`]);
}
