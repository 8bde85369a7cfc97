import { defineConfig } from "vitest/config";
import { platformAlias } from "./vitest.platform.js";

export default defineConfig({
  resolve: { alias: platformAlias },
  test: {
    include: ["test/**/*.test.ts"],
    // Long fault-injection runs live behind `npm run test:faults`, the
    // console's browser suite behind `npm run test:browser`.
    exclude: ["test/faults/**", "test/console-browser/**", "**/node_modules/**"],
    // Many files wait on sockets, child processes and PGlite start-up rather
    // than on the CPU: four workers finish in ~46 s on a 2-core machine,
    // against ~75 s with the default.
    maxWorkers: 4,
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
