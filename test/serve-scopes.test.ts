/**
 * The scope catalog file of `serve` and `GET /oauth/scopes`: grouped and
 * described scopes, the official SDK's `scopes` member, and the formats of
 * earlier versions still read the same.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Cloudflare from "cloudflare";
import { afterAll, describe, expect, it } from "vitest";
import { parseServeArgs } from "../src/cli/args.js";
import { loadScopeCatalog } from "../src/cli/catalog.js";
import { StartupError } from "../src/cli/errors.js";
import { serve } from "../src/cli/serve.js";

const work = mkdtempSync(join(tmpdir(), "ocr-scopes-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let files = 0;
function catalogFile(content: unknown): string {
  const file = join(work, `catalog-${files++}.json`);
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return file;
}

const quiet = { out: () => undefined, err: () => undefined };

describe("scope catalog file", () => {
  it("still reads a plain array of strings and objects, and the { scopes } wrapper", async () => {
    const entries = ["zone.read", { id: "zone.edit", name: "Edit zones", category: "Zone" }];
    const expected = [{ id: "zone.read" }, { id: "zone.edit", name: "Edit zones", category: "Zone" }];
    expect(await loadScopeCatalog(catalogFile(entries))).toEqual(expected);
    expect(await loadScopeCatalog(catalogFile({ scopes: entries }))).toEqual(expected);
  });

  it("groups scopes: members take the group's category (or name) unless they set their own", async () => {
    const file = catalogFile({
      scopes: [
        {
          id: "zone",
          name: "Zones",
          category: "Zone management",
          scopes: [{ id: "zone.read", name: "Read zones" }, "zone.purge", { id: "zone.edit", category: "Danger" }],
        },
        { name: "DNS", scopes: [{ id: "dns.edit", scopes: ["com.example.zone.dns.edit", "com.example.zone.read"] }] },
        { id: "account.read", name: "Read accounts", scopes: ["com.example.account.read"] },
      ],
    });
    expect(await loadScopeCatalog(file)).toEqual([
      { id: "zone.read", name: "Read zones", category: "Zone management" },
      { id: "zone.purge", category: "Zone management" },
      { id: "zone.edit", category: "Danger" },
      { id: "dns.edit", category: "DNS", scopes: ["com.example.zone.dns.edit", "com.example.zone.read"] },
      { id: "account.read", name: "Read accounts", scopes: ["com.example.account.read"] },
    ]);
  });

  it("reads the example of docs/http.md as the docs say it is served", async () => {
    const doc = readFileSync(new URL("../docs/http.md", import.meta.url), "utf8");
    const section = doc.slice(doc.indexOf("### The scope catalog file"));
    const example = /```json\n([\s\S]*?)```/.exec(section)![1]!;
    const served = JSON.parse(/serves `GET \/oauth\/scopes` as\n`([^`]+)`/.exec(section)![1]!) as { id: string; name: string }[];
    const catalog = await loadScopeCatalog(catalogFile(example));
    expect(catalog.map((entry) => ({ ...entry, name: entry.name ?? entry.id }))).toEqual(served);
  });

  it.each([
    [["zone.read", { id: "zone.read" }], /entry 1 repeats the scope "zone.read"/],
    [[{ name: "Zones", scopes: ["zone.read", 7] }], /entry 0 > scopes\[1\] must be a scope string/],
    [[{ id: "zone.read", scopes: ["ok", ""] }], /entry 0 "scopes" of a scope lists its resource scopes/],
    [[{ id: "zone.read", name: 3 }], /entry 0 "name" must be a non-empty string/],
    [[{ name: "Zones" }], /entry 0 must have an "id" \(a scope\) or a "scopes" list \(a group\)/],
    [{ scopes: "zone.read" }, /must be a JSON array of scopes/],
  ])("refuses %j with a message naming the entry", async (content, message) => {
    const error = await loadScopeCatalog(catalogFile(content)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toMatch(message);
  });
});

describe("GET /oauth/scopes from serve", () => {
  it("lists each scope with its name, category and resource scopes, as the official SDK reads them", async () => {
    const file = catalogFile({
      scopes: [
        { name: "Zones", scopes: [{ id: "zone.read", name: "Read zones", scopes: ["com.example.zone.read"] }, "zone.edit"] },
        "account.read",
      ],
    });
    const options = parseServeArgs(["--port", "0", "--db", join(work, "scopes.sqlite"), "--scope-catalog", file], {});
    const running = await serve(options, { OAUTH_REGISTRY_API_TOKEN: "scopes-token" }, quiet);
    try {
      const sdk = new Cloudflare({ apiToken: "scopes-token", baseURL: running.url, maxRetries: 0 });
      const listed = [];
      for await (const scope of sdk.iam.oauthScopes.list()) listed.push(scope);
      expect(listed).toEqual([
        { id: "zone.read", name: "Read zones", category: "Zones", scopes: ["com.example.zone.read"] },
        { id: "zone.edit", name: "zone.edit", category: "Zones" },
        { id: "account.read", name: "account.read" },
      ]);
      // Grouping only describes: a group's id or name is no scope a client may request.
      const refused = await fetch(`${running.url}/accounts/acct/oauth_clients`, {
        method: "POST",
        headers: { authorization: "Bearer scopes-token", "content-type": "application/json" },
        body: JSON.stringify({
          client_name: "x",
          grant_types: ["authorization_code"],
          response_types: ["code"],
          redirect_uris: ["https://example.com/cb"],
          scopes: ["zones.read"],
          token_endpoint_auth_method: "client_secret_basic",
        }),
      });
      expect(refused.status).toBe(400);
    } finally {
      await running.close();
    }
  });
});
