import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createNodeRequestListener as webBridge } from "../src/platform/node-bridge.web.js";
import { createNodeRequestListener } from "../src/http/index.js";
import { createFetchHandler } from "../src/http/handler.js";
import { createOAuthClientRegistry } from "../src/registry/registry.js";
import { createMemoryStore } from "../adapters/memory.js";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  imports: Record<string, { node: string; default: string }>;
};

describe("#platform/* modules are picked by package condition", () => {
  it("every import names a Node module and a default module, both built from sources that exist", () => {
    const names = Object.keys(pkg.imports);
    expect(names.length).toBeGreaterThanOrEqual(4);
    for (const name of names) {
      const short = name.replace(/^#platform\//, "");
      expect(Object.keys(pkg.imports[name]!)).toEqual(["node", "default"]);
      expect(pkg.imports[name]!.node).toBe(`./dist/src/platform/${short}.node.js`);
      expect(pkg.imports[name]!.default).toBe(`./dist/src/platform/${short}.web.js`);
      for (const variant of ["node", "web"]) {
        expect(existsSync(new URL(`../src/platform/${short}.${variant}.ts`, import.meta.url)), `${short}.${variant}.ts`).toBe(true);
      }
    }
  });

  it("the node:http bridge keeps its name everywhere: on Node it serves, without the node condition it refuses when called", () => {
    const registry = createOAuthClientRegistry(createMemoryStore());
    const handler = createFetchHandler(registry, { authorize: () => true });
    expect(typeof createNodeRequestListener(handler)).toBe("function");
    expect(() => (webBridge as unknown as typeof createNodeRequestListener)(handler)).toThrow(/needs node:http/);
  });
});
