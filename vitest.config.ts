import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Need Debian packages (Python gRPC, Chromium): `npm run test:polyglot` / `test:browser`, which CI runs after installing them.
    exclude: [...configDefaults.exclude, "test/polyglot/**", "test/browser/**"],
    // Integration tests start real daemon processes; a slow shared machine must not fail them.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    env: { TZ: "UTC" },
  },
});
