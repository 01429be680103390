import { defineConfig } from "vitest/config";

// `npm run test:polyglot`: clients in other languages (examples/python) against the offline stack.
// Apart from `npm test` because it needs Debian packages (examples/python/install-deps.sh) that a
// fresh machine does not have; otherwise the same settings as vitest.config.ts.
export default defineConfig({
  test: {
    include: ["test/polyglot/**/*.test.ts"],
    // The tests start the demo process and run Python programs; a slow shared machine must not fail them.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    env: { TZ: "UTC" },
  },
});
