import { defineConfig } from "vitest/config";
import { platformAlias } from "./vitest.platform.js";

// Long fault-injection runs (process kills, database restarts): `npm run test:faults`.
export default defineConfig({
  resolve: { alias: platformAlias },
  test: {
    include: ["test/faults/**/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
