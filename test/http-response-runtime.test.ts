/**
 * Which `Response` the fetch handler answers with, by runtime. Only Node
 * reads a response's body through its public members, so only Node may get
 * the lazy-body subclass; workerd serves a `Response` from its internal
 * state, where that subclass has no body. Workers with `nodejs_compat` have
 * a `process` whose `release.name` is "node" as well, so their navigator
 * must tell them apart. (The body a Worker actually serves is checked in
 * workerd by `npm run test:runtimes`, step `worker`.)
 */
import { afterEach, describe, expect, it, vi } from "vitest";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

/** The prototype of a handler response, with the module loaded under `navigator.userAgent`. */
async function responsePrototypeUnder(userAgent: string): Promise<unknown> {
  vi.resetModules();
  vi.stubGlobal("navigator", { userAgent });
  const { jsonResponse } = await import("../src/http/response.js");
  return Object.getPrototypeOf(jsonResponse('{"ok":true}', 200, { "content-type": "application/json" }));
}

describe("the handler's Response on each runtime", () => {
  it("is the runtime's own Response on Workers with nodejs_compat (process says node, navigator says Cloudflare-Workers)", async () => {
    expect(globalThis.process.release.name).toBe("node");
    // Compared as booleans: printing a Response prototype would call its getters.
    expect((await responsePrototypeUnder("Cloudflare-Workers")) === Response.prototype).toBe(true);
  });

  it("stays the lazy-body subclass on Node, whose navigator says Node.js/…", async () => {
    const prototype = await responsePrototypeUnder(`Node.js/${process.versions.node.split(".")[0]}`);
    expect(prototype === Response.prototype).toBe(false);
    expect(Object.prototype.isPrototypeOf.call(Response.prototype, prototype as object)).toBe(true);
  });
});
