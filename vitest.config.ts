import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // The sources' `#platform/*` modules are the Node ones (tsconfig.json "paths");
  // the published package picks by package.json "imports" conditions.
  resolve: { alias: [{ find: /^#platform\/(.*)$/, replacement: fileURLToPath(new URL("./src/platform/$1.node.ts", import.meta.url)) }] },
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
