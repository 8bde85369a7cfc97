/**
 * Statements of README.md and docs/*.md that once drifted from the code,
 * each checked against the code's own constants or behaviour, so that the
 * next change to either side fails here instead of misleading a reader.
 * (The TypeScript blocks themselves are compiled by scripts/check-docs.ts.)
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import * as root from "../src/index.js";
import {
  createOAuthClientRegistry,
  OAuthClientError,
  type AssertionRefusal,
  type OAuthClientRegistry,
  type OAuthClientRegistryOptions,
  type RegistryEvent,
  type RegistryEventType,
} from "../src/index.js";
import * as registration from "../src/registration/index.js";
import { createServeMetrics } from "../src/cli/metrics.js";
import { STORE_CONFORMANCE_CASES } from "../src/testing/conformance.js";
import { ACCOUNT, apiRequest, createHarness, validCreateBody } from "./helpers/http.js";
import { MAX_GRACE_PERIOD_SECONDS, MAX_IDLE_SECONDS } from "../src/http/extensions.js";
import { ROUTES } from "../src/http/routes.js";

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), "utf8");
const PAGES = ["README.md", ...readdirSync(new URL("../docs/", import.meta.url)).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/** The table row of a Markdown page whose first cell contains `first`. */
function row(page: string, first: string): string {
  const found = read(page)
    .split("\n")
    .filter((line) => line.startsWith("|") && (line.split("|")[1] ?? "").includes(first));
  expect(found, `${page}: one table row starting with ${first}`).toHaveLength(1);
  return found[0]!;
}

/** The values a doc cell lists, as backticked words. */
const backticked = (text: string) => new Set([...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));

// Written as records so that the compiler insists on every member of each union: a new
// event type, match or reason fails to compile here until it is added, and then below until documented.
const EVENT_TYPES: Record<RegistryEventType, true> = {
  "client.created": true,
  "client.imported": true,
  "client.updated": true,
  "client.deleted": true,
  "client.secret_rotated": true,
  "client.rotated_secret_deleted": true,
  "client.promoted": true,
  "client.uri_verification_changed": true,
  "client.authenticated": true,
  "client.authentication_failed": true,
};
type Event<T extends RegistryEventType> = Extract<RegistryEvent, { type: T }>;
const MATCHES: Record<Event<"client.authenticated">["matched"], true> = { current: true, rotated: true, private_key_jwt: true };
const FAILURE_REASONS: Record<Event<"client.authentication_failed">["reason"], true> = {
  unknown_client: true,
  invalid_secret: true,
  no_secret: true,
  secret_expired: true,
  invalid_assertion: true,
};
const ASSERTION_REFUSALS: Record<AssertionRefusal, true> = {
  unknown_client: true,
  wrong_method: true,
  invalid_client_metadata: true,
  malformed: true,
  algorithm: true,
  signature: true,
  issuer_subject: true,
  audience: true,
  expired: true,
  not_yet_valid: true,
  lifetime: true,
  missing_jti: true,
  replayed: true,
  too_many_assertions: true,
  key_not_found: true,
  key_set: true,
};
const REGISTRY_OPTIONS: Record<keyof OAuthClientRegistryOptions, true> = {
  scopeCatalog: true,
  identityScopes: true,
  now: true,
  hasher: true,
  importHasher: true,
  resolveTxt: true,
  verificationPrefix: true,
  secretPrefix: true,
  limits: true,
  maxWriteAttempts: true,
  rotatedSecretTtlMs: true,
  onEvent: true,
  generateClientId: true,
  generateSecret: true,
  generateVerificationToken: true,
  slowHashConcurrency: true,
  slowHashQueueLimit: true,
  lastUsedWriteIntervalMs: true,
  clientIdMetadataDocuments: true,
  privateKeyJwt: true,
};

describe("api.md lists every operation, option and error of the core", () => {
  const api = read("docs/api.md");

  it("every registry method has its section", () => {
    const registry: OAuthClientRegistry = createOAuthClientRegistry(createMemoryStore());
    const methods = Object.keys(registry).filter((name) => typeof registry[name as keyof OAuthClientRegistry] === "function");
    expect(methods).toContain("authenticateAssertion");
    for (const method of methods) expect(api, `api.md: a heading for ${method}`).toMatch(new RegExp(`^###.*\`${method}\\(`, "m"));
  });

  it("every registry option has a row in the options table", () => {
    const firstCells = api.split("\n").filter((line) => line.startsWith("| `")).map((line) => backticked(line.split("|")[1]!));
    for (const option of Object.keys(REGISTRY_OPTIONS)) expect(firstCells.some((cell) => cell.has(option)), `api.md: a row for ${option}`).toBe(true);
  });

  it("every error class the main entry exports has a row in the error table", () => {
    const classes = Object.entries(root).filter(([, value]) => typeof value === "function" && value.prototype instanceof OAuthClientError);
    expect(classes.map(([name]) => name)).toContain("AssertionError");
    for (const [name] of classes) expect(api, `api.md: a row for ${name}`).toMatch(new RegExp(`^\\| \`${name}\``, "m"));
  });

  it("the option error api.md quotes is the one the registry throws", () => {
    const quoted = /For example\s+`maxWriteAttempts: Number\("abc"\)` throws `([^`]+)`/.exec(api.replace(/\n/g, " "));
    expect(quoted, "api.md quotes an option error").not.toBeNull();
    expect(() => createOAuthClientRegistry(createMemoryStore(), { maxWriteAttempts: Number("abc") })).toThrow(quoted![1]!);
  });

  it("metadataToClientInput is said to come from oauth-client-registry/registration, where it is exported, and not from the main entry", () => {
    expect("metadataToClientInput" in root).toBe(false);
    expect(typeof registration.metadataToClientInput).toBe("function");
    expect(api).toMatch(/`metadataToClientInput`[^.]*exported from\s+`oauth-client-registry\/registration`/);
  });
});

describe("generated tables match the code's constants", () => {
  it("embedding.md: one event row per event type; every match, failure reason and assertion refusal listed", () => {
    const typesInTable = read("docs/embedding.md")
      .split("\n")
      .filter((line) => /^\| `client\./.test(line))
      .flatMap((line) => [...backticked(line.split("|")[1]!)]);
    expect(new Set(typesInTable)).toEqual(new Set(Object.keys(EVENT_TYPES)));
    const authenticated = backticked(row("docs/embedding.md", "`client.authenticated`"));
    for (const matched of Object.keys(MATCHES)) expect(authenticated).toContain(matched);
    const failed = row("docs/embedding.md", "`client.authentication_failed`");
    for (const reason of [...Object.keys(FAILURE_REASONS), ...Object.keys(ASSERTION_REFUSALS), "detail"]) expect(backticked(failed)).toContain(reason);
  });

  it("http.md (and the serve metrics' JSDoc): every outcome and secret label serve --metrics emits", async () => {
    const metrics = createServeMetrics();
    const counted = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === "oauth_registry_client_authentications_total")!;
    const outcomes = new Set(counted.values.map((v) => String(v.labels.outcome)));
    const secrets = new Set(counted.values.map((v) => String(v.labels.secret)));
    expect(outcomes).toContain("invalid_assertion");
    expect(secrets).toContain("private_key_jwt");
    const documented = backticked(row("docs/http.md", "`oauth_registry_client_authentications_total`"));
    const jsdoc = read("src/cli/metrics.ts");
    for (const label of [...outcomes, ...secrets]) {
      expect(documented).toContain(label);
      expect(jsdoc).toContain(`\`${label}\``);
    }
  });

  it("storage.md: the conformance cases, every id in STORE_CONFORMANCE_CASES order", () => {
    const listed = [...read("docs/storage.md").matchAll(/^- \*\*([a-z-]+)\*\* — /gm)].map((m) => m[1]);
    expect(listed).toEqual([...STORE_CONFORMANCE_CASES]);
  });
});

describe("numbers and examples the docs state", () => {
  it("the OpenAPI document's size (http.md, security.md) is within a quarter of what is served", async () => {
    const { handler } = createHarness();
    const bytes = (await (await handler(apiRequest("GET", "/openapi.json"))).arrayBuffer()).byteLength;
    for (const page of ["docs/http.md", "docs/security.md"]) {
      const stated = [...read(page).matchAll(/OpenAPI document \(about (\d+) KB\)|openapi\.json` \(a cached string, ~(\d+) KB\)/g)];
      expect(stated.length, `${page} states the size`).toBeGreaterThan(0);
      for (const match of stated) expect(Math.abs(Number(match[1] ?? match[2]) * 1000 - bytes) / bytes).toBeLessThan(0.25);
    }
  });

  it("http.md: a routes-table row per operation of the route table, with its permission; the extensions' ranges", () => {
    const http = read("docs/http.md");
    for (const route of ROUTES) {
      for (const operation of route.operations) {
        if (operation.permission === null) continue;
        const path = `/${route.template.join("/")}`;
        const line = http.split("\n").find((l) => l.startsWith(`| ${operation.method} | \`${path}\` |`));
        expect(line, `http.md: a row for ${operation.method} ${path}`).toBeDefined();
        expect(line).toContain(`\`${operation.permission}\``);
      }
    }
    const spaced = (n: number) => n.toLocaleString("en-US").replace(/,/g, " ");
    expect(http).toContain(`from 1 to ${spaced(MAX_GRACE_PERIOD_SECONDS)}`);
    expect(http).toContain(`from 0 to ${spaced(MAX_IDLE_SECONDS)}`);
  });

  it("http.md's validation envelope is what the handler answers, in the same order", async () => {
    const { handler } = createHarness();
    const response = await handler(apiRequest("POST", `/accounts/${ACCOUNT}/oauth_clients`, { json: validCreateBody({ redirect_uris: [], colour: "blue" }) }));
    const documented = /```json\n(\{\n {2}"success": false,[\s\S]*?)```/.exec(read("docs/http.md"))![1]!;
    expect(await response.json()).toEqual(JSON.parse(documented));
  });

  it("registration.md: client_secret and client_secret_expires_at come with secret methods only", async () => {
    const registry = createOAuthClientRegistry(createMemoryStore());
    const register = registration.createRegistrationHandler(registry, { accountId: "registered" });
    const post = (method: string) =>
      register(
        new Request("http://localhost/register", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ redirect_uris: ["https://tool.example.com/cb"], token_endpoint_auth_method: method }),
        }),
      ).then((r) => r.json() as Promise<Record<string, unknown>>);
    const publicClient = await post("none");
    expect(publicClient).not.toHaveProperty("client_secret");
    expect(publicClient).not.toHaveProperty("client_secret_expires_at");
    const secretClient = await post("client_secret_basic");
    expect(secretClient).toHaveProperty("client_secret");
    expect(secretClient).toHaveProperty("client_secret_expires_at", 0);
    expect(row("docs/registration.md", "`POST /register`")).toContain("`client_secret` and `client_secret_expires_at` (both for secret methods only)");
  });

  it("no example carries a shortened hash that would throw when copied (sha256$9f86d081…)", () => {
    const files = [...PAGES, ...readdirSync(new URL("../src/http/", import.meta.url)).map((f) => `src/http/${f}`)];
    for (const file of files) expect(read(file), file).not.toMatch(/"sha256\$[0-9a-f]*…"/);
  });

  it("authenticateAssertion is never shown with a string | null argument (form.get without a fallback)", () => {
    for (const page of PAGES) expect(read(page), page).not.toMatch(/authenticateAssertion\(form\.get\("client_assertion"\)(?! \?\?)/);
  });
});

describe("what npm readers get", () => {
  const shipped = JSON.parse(read("package.json")) as { files: string[] };

  it("links in README.md and docs/ point at shipped files or the web (examples/ does not ship)", () => {
    for (const page of PAGES) {
      for (const [, target] of read(page).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:|#)/.test(target!)) continue;
        const resolved = new URL(target!.split("#")[0]!, new URL(`file:///pkg/${page}`)).pathname.slice("/pkg/".length);
        expect(
          shipped.files.some((entry) => resolved === entry || resolved.startsWith(`${entry}/`)),
          `${page}: ${target} (${resolved}) is not in the package's files`,
        ).toBe(true);
      }
    }
  });

  it("README's Stability section names every subpath export as public API", () => {
    const { exports } = JSON.parse(read("package.json")) as { exports: Record<string, unknown> };
    const stability = /^## Stability\n([\s\S]*?)^## /m.exec(read("README.md"))![1]!;
    for (const subpath of Object.keys(exports).filter((s) => s !== "./package.json")) {
      expect(stability).toContain(subpath === "." ? "`oauth-client-registry`" : `\`${subpath.slice(1)}\``);
    }
  });

  it("the install line names @types/pg, which the pg snippets need in a strict TypeScript project", () => {
    const usesPg = PAGES.some((page) => /^import pg from "pg";$/m.test(read(page)));
    expect(usesPg).toBe(true);
    expect(read("README.md")).toMatch(/npm install -D @types\/pg/);
  });
});
