import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // wrangler dev bundles the Worker and starts workerd before the first test.
    testTimeout: 30_000,
    hookTimeout: 90_000,
  },
});
