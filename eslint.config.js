import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

/** What the runtime-neutral core never imports (see the last block). */
const RESTRICTED_IMPORTS = [
  {
    group: ["node:*", "bun:*"],
    message: "node: and bun: modules belong in src/platform/ (one module per runtime, picked by package condition), src/cli/ or the node:http bridge.",
  },
  {
    group: ["better-sqlite3", "pg", "mysql2", "mysql2/*", "kysely", "kysely/*", "@hono/node-server", "prom-client"],
    message: "Database drivers and Node-only packages are imported only by the SQL adapters, src/cli/ or the node:http bridge.",
  },
];

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", ".tmp/**", "**/.wrangler/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
  },
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  // The runtime-neutral core: node: modules, database drivers and Node-only
  // packages only in platform/, cli/, the node:http bridge and the SQL adapters.
  {
    files: ["src/**/*.ts", "adapters/**/*.ts"],
    ignores: [
      "src/platform/**",
      "src/cli/**",
      "src/http/node.ts",
      "src/http/node-request.ts",
      // The pinned-socket fetcher: platform/transport.node.ts hands it out.
      "src/platform/pinned-fetch.node.ts",
      "adapters/sqlite.ts",
      "adapters/sqlite-drivers.ts",
      "adapters/kysely.ts",
    ],
    rules: {
      "no-restricted-imports": ["error", { patterns: RESTRICTED_IMPORTS }],
      "no-restricted-syntax": [
        "error",
        {
          selector: "ImportExpression[source.type='Literal'][source.value=/^(node:|bun:|better-sqlite3$|pg$|mysql2|kysely|@hono\\/node-server$|prom-client$)/]",
          message: "Node-only and driver modules load in src/platform/, src/cli/, the node:http bridge or the SQL adapters, never in the core.",
        },
        {
          selector: "ImportDeclaration[source.value='zod'] > ImportSpecifier[imported.name='z']",
          message: 'Write `import * as z from "zod"`: the `z` export is a namespace object that carries every locale, and no bundler can shake it (about 67 KB gzipped more in a Worker bundle).',
        },
      ],
    },
  },
  // Inside platform/, only the Node modules (`*.node.ts`) may.
  {
    files: ["src/platform/**/*.ts"],
    ignores: ["src/platform/*.node.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: RESTRICTED_IMPORTS }] },
  },
);
