import { fileURLToPath } from "node:url";

/**
 * The sources' `#platform/*` modules are the Node ones (tsconfig.json
 * "paths"); the published package picks by package.json "imports"
 * conditions. Every vitest config of this repository resolves them so.
 */
export const platformAlias = [{ find: /^#platform\/(.*)$/, replacement: fileURLToPath(new URL("./src/platform/$1.node.ts", import.meta.url)) }];
