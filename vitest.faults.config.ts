import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Long fault-injection runs (process kills, database restarts): `npm run test:faults`.
export default defineConfig({
  // As in vitest.config.ts: the sources' `#platform/*` modules are the Node ones.
  resolve: { alias: [{ find: /^#platform\/(.*)$/, replacement: fileURLToPath(new URL("./src/platform/$1.node.ts", import.meta.url)) }] },
  test: {
    include: ["test/faults/**/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
