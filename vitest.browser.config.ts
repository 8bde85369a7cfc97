import { defineConfig } from "vitest/config";

// The console's browser suite (`npm run test:browser`): Debian's Chromium
// driven by playwright-core against `serve`; kept out of `npm test`, which
// needs no browser.
export default defineConfig({
  test: {
    include: ["test/console-browser/**/*.test.ts"],
    // One browser at a time: each file starts its own server and Chromium.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
