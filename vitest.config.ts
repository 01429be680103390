import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Needs Debian's Python gRPC packages: `npm run test:polyglot`, which CI runs after installing them.
    exclude: [...configDefaults.exclude, "test/polyglot/**"],
    // Integration tests start real daemon processes; a slow shared machine must not fail them.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    env: { TZ: "UTC" },
  },
});
