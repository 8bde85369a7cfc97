/**
 * The console handler without a browser: what it serves and with which
 * headers, that its generated assets match their sources, the page's weight,
 * and how `serve` mounts it. The browser suite (`npm run test:browser`)
 * covers what an operator sees.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { buildConsoleModule, GENERATED_PATH } from "../scripts/console-assets.js";
import { parseServeArgs } from "../src/cli/args.js";
import { serve } from "../src/cli/serve.js";
import { CONSOLE_ASSETS, CONSOLE_PAGE } from "../src/console/assets.generated.js";
import { CONSOLE_CONTENT_SECURITY_POLICY, createConsoleHandler } from "../src/console/index.js";

const handler = createConsoleHandler();
const get = (path: string, init?: RequestInit) => handler(new Request(`http://console.test${path}`, init));
const assetPaths = Object.keys(CONSOLE_ASSETS);

describe("createConsoleHandler", () => {
  it("serves the page at its base path with a CSP that allows nothing inline, nothing foreign, no framing", async () => {
    const response = await get("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = response.headers.get("content-security-policy")!;
    expect(csp).toBe(CONSOLE_CONTENT_SECURITY_POLICY);
    for (const directive of ["default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    const page = await response.text();
    expect(page).toContain('<meta name="api-base" content="/client/v4">');
    expect((await get("/index.html")).status).toBe(200);
  });

  it("serves the script and stylesheet under content-hashed names, cached as immutable", async () => {
    expect(assetPaths.map((p) => p.replace(/-[0-9a-f]{12}\./, "-HASH."))).toEqual(["assets/console-HASH.js", "assets/console-HASH.css"]);
    for (const path of assetPaths) {
      const response = await get(`/${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(response.headers.get("content-type")).toMatch(path.endsWith(".js") ? /^text\/javascript/ : /^text\/css/);
      expect(await response.text()).toBe(CONSOLE_ASSETS[path]!.body);
    }
  });

  it("answers 404 for other paths and 405 with Allow for other methods; HEAD has no body", async () => {
    expect((await get("/assets/console-000000000000.js")).status).toBe(404);
    expect((await get("/client/v4/openapi.json")).status).toBe(404);
    const post = await get("/", { method: "POST", body: "{}" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    const head = await get("/", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("mounts below a base path (redirecting the path without its slash) and writes the API path as an attribute value", async () => {
    const mounted = createConsoleHandler({ basePath: "/console/", apiBasePath: '/api/"><script>' });
    const page = await mounted(new Request("http://console.test/console/"));
    expect(await page.text()).toContain('<meta name="api-base" content="/api/&quot;&gt;&lt;script&gt;">');
    const bare = await mounted(new Request("http://console.test/console"));
    expect(bare.status).toBe(308);
    expect(bare.headers.get("location")).toBe("/console/");
    expect((await mounted(new Request("http://console.test/"))).status).toBe(404);
    expect(() => createConsoleHandler({ basePath: "/console" })).toThrow(/basePath must be an absolute path ending with \//);
    expect(() => createConsoleHandler({ apiBasePath: "https://elsewhere.example" })).toThrow(/apiBasePath must be an absolute path/);
  });
});

describe("the console's page", () => {
  it("is generated from src/console/app as committed (run `npm run console:build` after changing it)", async () => {
    expect(await readFile(GENERATED_PATH, "utf8")).toBe(await buildConsoleModule());
  });

  it("has no inline script, style or handler, and references nothing on another origin", () => {
    expect(CONSOLE_PAGE).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(CONSOLE_PAGE).not.toMatch(/\son[a-z]+=|\sstyle=|<style/i);
    for (const text of [CONSOLE_PAGE, ...Object.values(CONSOLE_ASSETS).map((a) => a.body)]) {
      expect(text).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}\//i);
      expect(text).not.toMatch(/@import|url\(/);
    }
  });

  it("never writes HTML or evaluates text: values from the API can only become text nodes", async () => {
    const dir = new URL("../src/console/app/", import.meta.url);
    for (const file of (await readdir(dir)).filter((f) => f.endsWith(".ts"))) {
      const source = await readFile(new URL(file, dir), "utf8");
      expect(source, file).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|srcdoc/);
    }
  });

  it("weighs at most 60 KB gzipped, page, script and stylesheet together", () => {
    const bytes = [CONSOLE_PAGE, ...Object.values(CONSOLE_ASSETS).map((a) => a.body)].reduce((sum, text) => sum + gzipSync(text).length, 0);
    expect(bytes).toBeLessThanOrEqual(60 * 1024);
  });

  it("imports no node: module, so it loads on every runtime", async () => {
    for (const file of ["index.ts", "assets.generated.ts"]) {
      const source = await readFile(new URL(`../src/console/${file}`, import.meta.url), "utf8");
      expect(source).not.toMatch(/from\s+["']node:|import\(["']node:/);
    }
  });
});

describe("serve and the console", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });
  const start = async (args: string[]) => {
    const dir = await mkdtemp(join(tmpdir(), "console-serve-"));
    dirs.push(dir);
    const out: string[] = [];
    const running = await serve(parseServeArgs(["--port", "0", "--db", join(dir, "c.sqlite"), ...args], {}), { OAUTH_REGISTRY_API_TOKEN: "t" }, {
      out: (line) => out.push(line),
      err: () => {},
    });
    return { running, out, origin: new URL(running.url).origin };
  };

  it("serves the console at / and prints its URL; the API and its JSON 404 are unchanged", async () => {
    const { running, out, origin } = await start([]);
    try {
      expect(out).toContain(`operator console: ${origin}/ (sign in with the API credentials)`);
      const page = await fetch(`${origin}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-security-policy")).toBe(CONSOLE_CONTENT_SECURITY_POLICY);
      expect((await fetch(`${origin}/${assetPaths[0]}`)).status).toBe(200);
      expect((await fetch(`${origin}/client/v4/openapi.json`)).headers.get("content-type")).toMatch(/^application\/json/);
      const unknown = await fetch(`${origin}/nowhere`);
      expect(unknown.status).toBe(404);
      expect(unknown.headers.get("content-type")).toMatch(/^application\/json/);
    } finally {
      await running.close();
    }
  });

  it("--no-console leaves / to the API (404)", async () => {
    expect(parseServeArgs([], {}).console).toBe(true);
    expect(parseServeArgs(["--no-console"], {}).console).toBe(false);
    const { running, out, origin } = await start(["--no-console"]);
    try {
      expect(out.some((line) => line.startsWith("operator console:"))).toBe(false);
      const response = await fetch(`${origin}/`);
      expect(response.status).toBe(404);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    } finally {
      await running.close();
    }
  });
});
