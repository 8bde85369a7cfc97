/**
 * The rules scripts/check-docs.ts reads pages and doc comments by: what is a
 * block, which preamble and marker applies, what a result comment claims.
 */
import { describe, expect, it } from "vitest";
import { collectBlocks, expectedResult, jsdocExamples, markdownBlocks, packagePaths, UNFENCED_EXAMPLES_ALLOWED } from "../scripts/check-docs.js";

describe("markdownBlocks", () => {
  const page = [
    "# Page",
    "<!-- check-docs preamble",
    "declare const registry: unknown;",
    "-->",
    "```ts",
    "const a = 1;",
    "```",
    "```sh",
    "npm test",
    "```",
    "<!-- check-docs: run -->",
    "```typescript",
    "run();",
    "```",
    "- a list item:",
    "  <!-- check-docs: partial (a fragment) -->",
    "  ```ts",
    "    nested: true,",
    "  ```",
  ].join("\n");

  it("finds ts and typescript fences (indented ones dedented), skips other languages, and numbers lines as the page does", () => {
    const blocks = markdownBlocks("docs/x.md", page);
    expect(blocks.map((b) => [b.line, b.mode, b.code])).toEqual([
      [6, "check", "const a = 1;"],
      [13, "run", "run();"],
      [18, "partial", "  nested: true,"],
    ]);
    expect(blocks[2]!.reason).toBe("a fragment");
    for (const block of blocks) expect(block.preamble).toBe("declare const registry: unknown;");
  });

  it("a partial block must say why", () => {
    expect(() => markdownBlocks("docs/x.md", "<!-- check-docs: partial -->\n```ts\nx\n```\n")).toThrow(/says why/);
  });

  it("an unterminated fence or preamble is an error, not a silently skipped block", () => {
    expect(() => markdownBlocks("docs/x.md", "```ts\nconst a = 1;\n")).toThrow(/unterminated fence/);
    expect(() => markdownBlocks("docs/x.md", "<!-- check-docs preamble\ndeclare const a: 1;\n")).toThrow(/unterminated check-docs preamble/);
  });
});

describe("jsdocExamples", () => {
  const source = [
    "/**",
    " * Fenced.",
    " *",
    " * @example",
    " * ```ts",
    " * fenced(1);",
    " * ```",
    " */",
    "export function fenced(n: number) { return n; }",
    "/**",
    " * @example unfenced(2);",
    " */",
    "export const unfenced = (n: number) => n;",
  ].join("\n");

  it("checks fenced examples, counts unfenced ones, and lets examples see the file's exports", () => {
    const { blocks, unfenced } = jsdocExamples("src/x.ts", source);
    expect(unfenced).toBe(1);
    expect(blocks.map((b) => [b.line, b.code])).toEqual([[6, "fenced(1);"]]);
    expect(blocks[0]!.preamble).toMatch(/import \{ fenced, unfenced \} from "\.\.\/\.\.\/src\/x\.js";/);
  });

  it("the list of files allowed unfenced examples only names files that still have one", () => {
    // New unfenced examples fail `npm run test:docs`; here only the list itself is held to the sources.
    const { problems } = collectBlocks();
    expect(problems.filter((p) => p.includes("remove it from UNFENCED_EXAMPLES_ALLOWED"))).toEqual([]);
    expect(UNFENCED_EXAMPLES_ALLOWED).not.toContain("src/http/handler.ts");
  });
});

describe("expectedResult", () => {
  it.each([
    ["true", { kind: "value", value: true }],
    ["false: another host", { kind: "value", value: false }],
    ["null", { kind: "value", value: null }],
    ["1301", { kind: "value", value: 1301 }],
    ['"sha256$9f86", the hash', { kind: "value", value: "sha256$9f86" }],
    ['{ matched: "current", … }', { kind: "partial", entries: { matched: "current" } }],
    ['{ matched: "rotated", … } until deleted', { kind: "partial", entries: { matched: "rotated" } }],
  ])("// %s is a claim", (comment, expected) => {
    expect(expectedResult(comment)).toEqual(expected);
  });

  it.each(["shown once: store it now", "optional, see below", "{ created_at, client_id }", "trueish"])("// %s is prose", (comment) => {
    expect(expectedResult(comment)).toBeNull();
  });
});

describe("packagePaths", () => {
  it("maps every exported subpath to the source file its declarations are built from", () => {
    const paths = packagePaths();
    expect(paths["oauth-client-registry"]).toMatch(/src\/index\.ts$/);
    expect(paths["oauth-client-registry/memory"]).toMatch(/adapters\/memory\.ts$/);
    expect(paths).not.toHaveProperty("oauth-client-registry/package.json");
  });
});
