/**
 * Duplicate member names in a request body are refused with a pointer to
 * each, instead of JSON.parse silently keeping the last one (which turned a
 * confidential client into a public one).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findDuplicateKeys } from "../src/http/duplicate-keys.js";
import { ACCOUNT, apiRequest, createHarness, envelopeOf, validCreateBody } from "./helpers/http.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? (process.env.npm_lifecycle_event === "test:fuzz" ? 20_000 : 300));

describe("findDuplicateKeys", () => {
  it.each([
    ['{"a":1,"a":2}', ["/a"]],
    ['{"a":1,"b":{"c":2,"c":3},"a":4}', ["/b/c", "/a"]],
    ['{"a":1,"a":2,"a":3}', ["/a"]],
    ['{"a":1,"\\u0061":2}', ["/a"]],
    ['[{"x":[1,{"y":1,"y":2}]}]', ["/0/x/1/y"]],
    ['{"a/b~":1,"a/b~":2}', ["/a~1b~0"]],
    ['{"":1,"":2}', ["/"]],
    ['{ "a" : { "a" : 1 } , "b" : [ { "a" : 1 } , { "a" : 2 } ] }', []],
    ['{"k":"\\"k\\"","k2":"{\\"z\\":1,\\"z\\":2}","s":"\\\\","k":0}', ["/k"]],
    ['{"x":{"a":1},"x":{"a":1,"a":2}}', ["/x", "/x/a"]],
    ['[1,"a",{"b":null},[{"c":true,"c":false}]]', ["/3/0/c"]],
    ['"just a string"', []],
    ["{}", []],
  ])("%s → %j", (text, pointers) => {
    expect(findDuplicateKeys(text, Infinity)).toEqual({ pointers, more: 0 });
  });

  it("lists at most `limit` pointers and counts the rest", () => {
    const text = `{${Array.from({ length: 150 }, (_, i) => `"k${i}":1,"k${i}":2`).join(",")}}`;
    const found = findDuplicateKeys(text, 100);
    expect(found.pointers).toHaveLength(100);
    expect(found.pointers[99]).toBe("/k99");
    expect(found.more).toBe(50);
  });

  it("returns without throwing on text that is not JSON, however deep or broken", () => {
    for (const text of ["[".repeat(50_000), '{"a":'.repeat(50_000), '{"a', '{"a":1,"a', "}}]]", '{"\\', '{"\\u12', "{,,,}"]) {
      expect(() => findDuplicateKeys(text)).not.toThrow();
    }
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => {
        const found = findDuplicateKeys(text, 5);
        expect(found.pointers.length).toBeLessThanOrEqual(5);
      }),
      { numRuns: RUNS },
    );
  });

  it(`finds no duplicate in any serialized JSON value (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.boolean(), (value, pretty) => {
        const text = pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value);
        expect(findDuplicateKeys(text, Infinity)).toEqual({ pointers: [], more: 0 });
      }),
      { numRuns: RUNS },
    );
  });

  // A tree whose objects are lists of entries, so names may repeat; the
  // reference below walks it recursively, the scanner reads its text.
  type Tree = number | string | null | { array: Tree[] } | { entries: [string, Tree][] };
  const name = fc.constantFrom("a", "b", "a/b", "~", '"', "é", "", "{", "\\");
  const leaf = fc.oneof(fc.integer(), fc.constantFrom(null, "x", '{"a":1,"a":2}', "\\", '"'));
  const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
    tree: fc.oneof(
      { arbitrary: leaf, weight: 3 },
      fc.record({ array: fc.array(tie("tree"), { maxLength: 4 }) }),
      fc.record({ entries: fc.array(fc.tuple(name, tie("tree")), { maxLength: 5 }) }),
    ),
  }));

  /** Serializes names either plainly or fully \u-escaped, with or without spaces. */
  function serialize(node: Tree, escapeAll: boolean, space: string): string {
    if (typeof node !== "object" || node === null) return JSON.stringify(node);
    if ("array" in node) return `[${space}${node.array.map((child) => serialize(child, escapeAll, space)).join(`,${space}`)}${space}]`;
    const key = (k: string) =>
      escapeAll ? `"${[...k].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")}"` : JSON.stringify(k);
    return `{${space}${node.entries.map(([k, v]) => `${key(k)}${space}:${space}${serialize(v, escapeAll, space)}`).join(`,${space}`)}${space}}`;
  }

  function reference(node: Tree, path: string, out: string[]): string[] {
    if (typeof node !== "object" || node === null) return out;
    if ("array" in node) {
      node.array.forEach((child, i) => reference(child, `${path}/${i}`, out));
      return out;
    }
    const seen = new Map<string, boolean>();
    for (const [k, v] of node.entries) {
      const pointer = `${path}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`;
      if (!seen.has(k)) seen.set(k, false);
      else if (!seen.get(k)) {
        seen.set(k, true);
        out.push(pointer);
      }
      reference(v, pointer, out);
    }
    return out;
  }

  it(`agrees with a recursive reference on trees with repeated names (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(tree, fc.boolean(), fc.constantFrom("", " ", "\n\t"), (node, escapeAll, space) => {
        const text = serialize(node, escapeAll, space);
        expect(() => JSON.parse(text)).not.toThrow();
        expect(findDuplicateKeys(text, Infinity)).toEqual({ pointers: reference(node, "", []), more: 0 });
      }),
      { numRuns: RUNS },
    );
  });
});

describe("fetch handler: duplicate member names", () => {
  const clients = `/accounts/${ACCOUNT}/oauth_clients`;

  it("a repeated token_endpoint_auth_method is a 400 pointing at it, and no client is created", async () => {
    const { handler, registry } = createHarness();
    const body = JSON.stringify(validCreateBody()).replace(
      /}$/,
      ',"token_endpoint_auth_method":"client_secret_basic","token_endpoint_auth_method":"none"}',
    );
    const response = await handler(apiRequest("POST", clients, { body, headers: { "content-type": "application/json" } }));
    expect(response.status).toBe(400);
    const envelope = await envelopeOf(response);
    expect(envelope.errors).toEqual([{ code: 1000, message: expect.stringMatching(/duplicate/), source: { pointer: "/token_endpoint_auth_method" } }]);
    expect((await registry.list(ACCOUNT)).clients).toEqual([]);
  });

  it("a nested duplicate in an update is refused and the client is unchanged", async () => {
    const { handler, registry } = createHarness();
    const client = await registry.create(ACCOUNT, validCreateBody() as never);
    const body = '{"client_name":"Renamed","redirect_uris":["https://a.example/cb"],"x":{"y":1,"y":2}}';
    const response = await handler(apiRequest("PATCH", `${clients}/${client.client_id}`, { body, headers: { "content-type": "application/json" } }));
    expect(response.status).toBe(400);
    expect((await envelopeOf(response)).errors.map((e) => e.source?.pointer)).toEqual(["/x/y"]);
    expect((await registry.get(ACCOUNT, client.client_id)).client_name).toBe("Dashboard");
  });

  it("reports up to 100 duplicates, then one entry counting the rest", async () => {
    const { handler } = createHarness();
    const body = `{${Array.from({ length: 120 }, (_, i) => `"k${i}":1,"k${i}":2`).join(",")}}`;
    const response = await handler(apiRequest("POST", clients, { body, headers: { "content-type": "application/json" } }));
    const envelope = await envelopeOf(response);
    expect(envelope.errors).toHaveLength(101);
    expect(envelope.errors[100]).toEqual({ code: 1000, message: "and 20 more duplicate member names", source: { pointer: "" } });
  });

  it("a value equal to a member name is not a duplicate", async () => {
    const { handler } = createHarness();
    const body = JSON.stringify(validCreateBody({ client_name: "client_name" }));
    expect((await handler(apiRequest("POST", clients, { body, headers: { "content-type": "application/json" } }))).status).toBe(200);
  });
});
