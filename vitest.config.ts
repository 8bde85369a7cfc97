import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Long fault-injection runs live behind `npm run test:faults`.
    exclude: ["test/faults/**", "**/node_modules/**"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
