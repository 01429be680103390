import { defineConfig } from "vitest/config";

// `npm run test:browser`: the gateway's status page in headless Chromium (Debian's `chromium`
// package, scripts/install-chromium.sh), with a screenshot saved to test-artifacts/. Apart from
// `npm test` because a fresh machine has no Chromium; otherwise the same settings as vitest.config.ts.
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    // A browser start on a slow shared machine, on top of the whole stack, must not fail the test.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    env: { TZ: "UTC" },
  },
});
