import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Debian packages (Python gRPC, Chromium) or minutes of real time: `npm run test:polyglot`, `test:browser`, `test:chaos`, which CI runs.
    exclude: [...configDefaults.exclude, "test/polyglot/**", "test/browser/**", "test/chaos/**"],
    // Integration tests start real daemon processes; a slow shared machine must not fail them.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    env: { TZ: "UTC" },
  },
});
