import { defineConfig } from "vitest/config";

// `npm run test:chaos`: the reliability suite (issue 7 §4). Each scenario runs the real simulator
// and gateway processes for about a minute while it breaks them (kill -9, upstream faults, hostile
// requests, SIGTERM), so it stays out of `npm test`; otherwise the same settings as vitest.config.ts.
export default defineConfig({
  test: {
    include: ["test/chaos/**/*.test.ts"],
    // A scenario is a minute of load plus its checks; a slow shared machine must not fail it.
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: "forks",
    // One scenario at a time: each one's load and processes need the machine's two cores.
    fileParallelism: false,
    env: { TZ: "UTC" },
  },
});
