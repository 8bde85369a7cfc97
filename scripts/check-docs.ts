/**
 * `npm run test:docs`, first half: every fenced TypeScript block of
 * README.md and docs/*.md, and every fenced `@example` in src/ and
 * adapters/, compiles strictly as a consumer's code would, importing the
 * package by its published names (`oauth-client-registry`,
 * `oauth-client-registry/http`, …). Those names map to the source files the
 * package.json `exports` map builds them from, so a subpath that is not
 * exported, or a name an entry point does not export, fails here exactly as
 * it would in a user's project, without building the package first.
 *
 * What a page or a block tells the checker (HTML comments, invisible on
 * GitHub and npm):
 * - `<!-- check-docs preamble … -->` anywhere on a page: declarations the
 *   page's blocks share (`declare const registry: OAuthClientRegistry;`).
 *   Each block gets the preamble minus the names the block declares itself.
 * - `<!-- check-docs: run -->` on the line before a fence: the block also
 *   runs (with tsx, in an empty directory) and must exit 0. Only blocks that
 *   need no server and no secret from the environment are marked so. In a
 *   run block, a statement followed by a result comment (`// true`,
 *   `// null`, `// { matched: "current", … }`) must give that result.
 * - `<!-- check-docs: partial (why) -->` on the line before a fence: an
 *   intentionally partial block (a fragment of a larger file); not compiled.
 * - A block's imports of relative paths (`../src/my-store.js`) are the
 *   reader's own modules: the checker leaves them out, and the preamble
 *   declares what they provide.
 *
 * JSDoc `@example`s share one preamble (below). A source file may still have
 * unfenced examples only while it is listed in `UNFENCED_EXAMPLES_ALLOWED`;
 * the list can only shrink (a listed file without one fails).
 *
 * @example
 * ```sh
 * npx tsx scripts/check-docs.ts          # compile every block, run the marked ones
 * npx tsx scripts/check-docs.ts --no-run # compile only
 * ```
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const workDir = join(root, ".tmp", "check-docs");

/** Source files whose `@example`s are not fenced yet (other branches own them); fence one, then remove it here. */
export const UNFENCED_EXAMPLES_ALLOWED: readonly string[] = [
];

/** What every JSDoc `@example` may assume, as a page preamble does for a page. */
const JSDOC_PREAMBLE = `
import type { ClientStore, OAuthClientRegistry, StoredClient } from "oauth-client-registry";
import type { FetchHandler } from "oauth-client-registry/http";
declare const registry: OAuthClientRegistry;
declare const record: StoredClient;
declare const store: ClientStore;
declare const handler: FetchHandler;
declare const request: Request;
`;

/** One TypeScript block, wherever it was found. */
export interface DocBlock {
  /** Repository-relative file the block is in. */
  file: string;
  /** 1-based line of the block's first code line in `file`. */
  line: number;
  code: string;
  preamble: string;
  mode: "check" | "run" | "partial";
  /** Why a partial block is partial (required). */
  reason?: string;
}

const FENCE_OPEN = /^(\s*)```(\S*)\s*$/;
const MARKER = /^\s*<!--\s*check-docs:\s*(run|partial)\b\s*(?:\((.*)\))?\s*-->\s*$/;

/**
 * The TypeScript blocks of one Markdown page, with its preamble and markers.
 *
 * @example
 * ```ts
 * markdownBlocks("docs/api.md", "```ts\nconst a = 1;\n```\n")[0]?.line; // 2
 * ```
 */
export function markdownBlocks(file: string, text: string): DocBlock[] {
  const lines = text.split("\n");
  const preambles: string[] = [];
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*<!--\s*check-docs\s+preamble\s*$/.test(line)) {
      const end = lines.findIndex((l, j) => j > i && /^\s*-->\s*$/.test(l));
      if (end < 0) throw new Error(`${file}:${i + 1}: unterminated check-docs preamble`);
      preambles.push(lines.slice(i + 1, end).join("\n"));
      i = end;
      continue;
    }
    const open = FENCE_OPEN.exec(line);
    if (!open) continue;
    const indent = open[1]!.length;
    const close = lines.findIndex((l, j) => j > i && /^\s*```\s*$/.test(l));
    if (close < 0) throw new Error(`${file}:${i + 1}: unterminated fence`);
    if (open[2] === "ts" || open[2] === "typescript") {
      const marker = MARKER.exec(lines[i - 1] ?? "");
      const mode = (marker?.[1] as "run" | "partial" | undefined) ?? "check";
      const reason = marker?.[2]?.trim();
      if (mode === "partial" && !reason) throw new Error(`${file}:${i}: a partial block says why: <!-- check-docs: partial (why) -->`);
      const code = lines
        .slice(i + 1, close)
        .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
        .join("\n");
      blocks.push({ file, line: i + 2, code, preamble: "", mode, ...(reason ? { reason } : {}) });
    }
    i = close;
  }
  const preamble = preambles.join("\n");
  return blocks.map((block) => ({ ...block, preamble }));
}

/** Names a source file exports, for its own examples (internal modules have no public name to import them by). */
function exportedNames(text: string): string[] {
  const source = ts.createSourceFile("x.ts", text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const names: string[] = [];
  for (const statement of source.statements) {
    const exported = ts.canHaveModifiers(statement) && ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (exported && !ts.isExportDeclaration(statement)) names.push(...declaredNames(statement));
    if (ts.isExportDeclaration(statement) && statement.exportClause && ts.isNamedExports(statement.exportClause)) {
      names.push(...statement.exportClause.elements.map((e) => e.name.text));
    }
  }
  return [...new Set(names)];
}

/**
 * The `@example`s of one source file: the fenced ones as blocks, and how many are not fenced.
 * An example sees what its file exports (unless it imports the name itself, by its public path).
 */
export function jsdocExamples(file: string, text: string): { blocks: DocBlock[]; unfenced: number } {
  const shared = new Set(ts.createSourceFile("x.ts", JSDOC_PREAMBLE, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS).statements.flatMap(declaredNames));
  const names = exportedNames(text).filter((name) => !shared.has(name));
  const own = names.length === 0 ? "" : `\nimport { ${names.join(", ")} } from ${JSON.stringify(relative(workDir, join(root, file)).replace(/\.ts$/, ".js"))};`;
  const blocks: DocBlock[] = [];
  let unfenced = 0;
  for (const comment of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const startLine = text.slice(0, comment.index).split("\n").length;
    const lines = comment[0].split("\n").map((l) => l.replace(/^\s*\/?\*+\/?\s?/, "").replace(/\s*\*\/$/, ""));
    for (let i = 0; i < lines.length; i++) {
      if (!/^@example\b/.test(lines[i]!)) continue;
      const first = lines.findIndex((l, j) => j > i && l.trim() !== "");
      const open = first < 0 ? null : /^```(\S*)\s*$/.exec(lines[first]!.trim());
      if (!open) {
        unfenced++;
        continue;
      }
      const close = lines.findIndex((l, j) => j > first && /^\s*```\s*$/.test(l));
      if (close < 0) throw new Error(`${file}:${startLine + first}: unterminated fence in @example`);
      if (open[1] === "ts" || open[1] === "typescript") {
        blocks.push({ file, line: startLine + first + 1, code: lines.slice(first + 1, close).join("\n"), preamble: `${JSDOC_PREAMBLE}${own}`, mode: "check" });
      }
      i = close;
    }
  }
  return { blocks, unfenced };
}

/** Top-level names a piece of code declares (imports included). */
function declaredNames(statement: ts.Statement): string[] {
  if (ts.isImportDeclaration(statement)) {
    const clause = statement.importClause;
    if (!clause) return [];
    const names = clause.name ? [clause.name.text] : [];
    const bindings = clause.namedBindings;
    if (bindings && ts.isNamespaceImport(bindings)) names.push(bindings.name.text);
    if (bindings && ts.isNamedImports(bindings)) names.push(...bindings.elements.map((e) => e.name.text));
    return names;
  }
  if (ts.isVariableStatement(statement)) {
    const names: string[] = [];
    const collect = (name: ts.BindingName): void => {
      if (ts.isIdentifier(name)) names.push(name.text);
      else for (const element of name.elements) if (!ts.isOmittedExpression(element)) collect(element.name);
    };
    for (const declaration of statement.declarationList.declarations) collect(declaration.name);
    return names;
  }
  if (
    (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement) || ts.isEnumDeclaration(statement)) &&
    statement.name
  ) {
    return [statement.name.text];
  }
  return [];
}

/** The preamble without what the block declares itself, so a block that defines `registry` is not told about another one. */
function preambleFor(preamble: string, code: string): string {
  const parse = (text: string) => ts.createSourceFile("x.ts", text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const own = new Set(parse(code).statements.flatMap(declaredNames));
  const kept: string[] = [];
  for (const statement of parse(preamble).statements) {
    const clause = ts.isImportDeclaration(statement) ? statement.importClause : undefined;
    const bindings = clause?.namedBindings;
    if (clause && !clause.name && bindings && ts.isNamedImports(bindings)) {
      const elements = bindings.elements.filter((e) => !own.has(e.name.text));
      if (elements.length > 0) {
        kept.push(`import ${clause.isTypeOnly ? "type " : ""}{ ${elements.map((e) => e.getText()).join(", ")} } from ${(statement as ts.ImportDeclaration).moduleSpecifier.getText()};`);
      }
      continue;
    }
    if (declaredNames(statement).some((name) => own.has(name))) continue;
    kept.push(statement.getText());
  }
  return kept.join("\n");
}

/** `oauth-client-registry/…` → the source file its `exports` entry is built from. */
export function packagePaths(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { name: string; exports: Record<string, string | { types?: string }> };
  const paths: Record<string, string> = {};
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === "string" || target.types === undefined) continue;
    const source = target.types.replace(/^\.\/dist\//, "").replace(/\.d\.ts$/, ".ts");
    paths[subpath === "." ? pkg.name : `${pkg.name}/${subpath.slice(2)}`] = join(root, source);
  }
  // The package's own `#platform/*` imports, as tsconfig.json maps them for the sources.
  paths["#platform/*"] = join(root, "src/platform/*.node.ts");
  return paths;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

/** README.md and docs/*.md. */
export function docPages(): string[] {
  return ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];
}

/** Every block the checker knows of, and the problems found while collecting them. */
export function collectBlocks(): { blocks: DocBlock[]; problems: string[] } {
  const pages = docPages();
  const blocks = pages.flatMap((page) => markdownBlocks(page, readFileSync(join(root, page), "utf8")));
  const problems: string[] = [];
  for (const file of [...sourceFiles("src"), ...sourceFiles("adapters")]) {
    const found = jsdocExamples(file, readFileSync(join(root, file), "utf8"));
    blocks.push(...found.blocks);
    const allowed = UNFENCED_EXAMPLES_ALLOWED.includes(file);
    if (found.unfenced > 0 && !allowed) problems.push(`${file}: ${found.unfenced} @example(s) not fenced as \`\`\`ts (fence them so that they are checked)`);
    if (found.unfenced === 0 && allowed) problems.push(`${file}: every @example is fenced now; remove it from UNFENCED_EXAMPLES_ALLOWED in scripts/check-docs.ts`);
  }
  return { blocks, problems };
}

interface Written {
  block: DocBlock;
  path: string;
  /** Lines the preamble adds before the block's first line. */
  offset: number;
}

/**
 * A block's imports of relative paths (`../src/my-store.js`) name the
 * reader's own modules, which do not exist here: they are blanked (keeping
 * line numbers), and the page preamble declares what they provide.
 */
function withoutOwnModules(code: string): string {
  const source = ts.createSourceFile("x.ts", code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  let result = code;
  for (const statement of [...source.statements].reverse()) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier) && statement.moduleSpecifier.text.startsWith(".")) {
      const start = statement.getStart();
      result = result.slice(0, start) + result.slice(start, statement.end).replace(/[^\n]/g, " ") + result.slice(statement.end);
    }
  }
  return result;
}

function writeBlocks(blocks: DocBlock[]): Written[] {
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  return blocks
    .filter((block) => block.mode !== "partial")
    .map((block) => {
      const code = withoutOwnModules(block.code);
      const preamble = preambleFor(block.preamble, code);
      const head = preamble === "" ? "" : `${preamble}\n`;
      const path = join(workDir, `${block.file.replace(/[/.]/g, "_")}_${block.line}.ts`);
      writeFileSync(path, `${head}${code}\nexport {};\n`);
      return { block, path, offset: head.split("\n").length - 1 };
    });
}

/** Compiler options of a strict consumer project on Node (ESM, NodeNext, @types/node). */
function consumerOptions(paths: Record<string, string>): ts.CompilerOptions {
  return {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ["lib.es2023.d.ts", "lib.es2024.string.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
    types: ["node"],
    esModuleInterop: true,
    paths: Object.fromEntries(Object.entries(paths).map(([name, file]) => [name, [file]])),
  };
}

/** Type names the pages must not mention unless an entry point exports them (`ServeOptions` once was such a name). */
const API_TYPE_NAME = /`([A-Z][A-Za-z0-9]*(?:Options|Error))`/g;
/** Such names that are not this package's: the platform's and other packages'. */
const FOREIGN_NAMES = new Set([
  ...["TypeError", "Error", "SyntaxError", "RangeError", "AbortError"],
  // The error classes of the `cloudflare` SDK, as cloudflare-compatibility.md maps statuses to them.
  ...["BadRequestError", "AuthenticationError", "PermissionDeniedError", "APIError", "InternalServerError"],
]);

/** Every name the package's entry points export, as the compiler sees them. */
function publicNames(program: ts.Program): Set<string> {
  const checker = program.getTypeChecker();
  const names = new Set<string>();
  for (const file of Object.values(packagePaths())) {
    const source = program.getSourceFile(file);
    const symbol = source && checker.getSymbolAtLocation(source);
    if (symbol) for (const exported of checker.getExportsOfModule(symbol)) names.add(exported.name);
  }
  return names;
}

/** Pages that name an `…Options` or `…Error` type no entry point exports claim an API that does not exist. */
function unexportedNames(program: ts.Program, pages: readonly string[]): string[] {
  const names = publicNames(program);
  const problems: string[] = [];
  for (const page of pages) {
    const lines = readFileSync(join(root, page), "utf8").split("\n");
    lines.forEach((line, index) => {
      for (const [, name] of line.matchAll(API_TYPE_NAME)) {
        if (!names.has(name!) && !FOREIGN_NAMES.has(name!)) problems.push(`${page}:${index + 1}: \`${name}\` is not exported from any entry point of the package`);
      }
    });
  }
  return problems;
}

/** Compiler diagnostics of every block, reported at their place in the page or source file. */
export function typecheck(written: Written[], pages: readonly string[] = []): string[] {
  const program = ts.createProgram(
    [...written.map((w) => w.path), ...Object.values(packagePaths()).filter((file) => !file.includes("*"))],
    consumerOptions(packagePaths()),
  );
  const byPath = new Map(written.map((w) => [w.path, w]));
  const problems: string[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
    const source = diagnostic.file;
    const owner = source ? byPath.get(source.fileName) : undefined;
    // The package's own sources are compiled here only to give the blocks their types; a consumer
    // reads their declarations with skipLibCheck, and tsconfig.json checks them on their own.
    if (source && !owner) continue;
    if (!source || !owner) {
      problems.push(`(global) TS${diagnostic.code} ${message}`);
      continue;
    }
    const { line, character } = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    const where = line < owner.offset ? `${owner.block.file}:${owner.block.line} (preamble line ${line + 1})` : `${owner.block.file}:${owner.block.line + line - owner.offset}:${character + 1}`;
    problems.push(`${where} TS${diagnostic.code} ${message}`);
  }
  return [...problems.sort(), ...unexportedNames(program, pages)];
}

/** What a `// …` comment after a statement of a run block says it evaluates to. */
type Expected = { kind: "value"; value: unknown } | { kind: "partial"; entries: Record<string, unknown> };

const LITERAL = String.raw`true|false|null|-?\d+(?:\.\d+)?|"(?:[^"\\]|\\.)*"`;

/**
 * Reads a result comment: a literal (`// true`, `// null`, `// "x"`,
 * optionally followed by `:` or `,` and prose) or an object of literals
 * that may end in `…` (`// { matched: "current", … }`, checked member by
 * member). Anything else is prose, not a claim.
 */
export function expectedResult(comment: string): Expected | null {
  const literal = new RegExp(`^(${LITERAL})(?:$|[:,;]|\\s)`).exec(comment);
  if (literal) return { kind: "value", value: JSON.parse(literal[1]!) };
  const object = /^\{\s*(.*?)\s*\}/.exec(comment);
  if (!object) return null;
  const entries: Record<string, unknown> = {};
  for (const part of object[1]!.split(/,\s*/)) {
    if (part === "…" || part === "") continue;
    const member = new RegExp(`^(\\w+): (${LITERAL})$`).exec(part);
    if (!member) return null;
    entries[member[1]!] = JSON.parse(member[2]!);
  }
  return { kind: "partial", entries };
}

/** The block with each top-level statement that has a result comment turned into a check of that result. */
function withResultChecks(code: string, block: DocBlock, offset: number): string {
  const source = ts.createSourceFile("x.ts", code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  let result = code;
  for (const statement of [...source.statements].reverse()) {
    if (!ts.isExpressionStatement(statement)) continue;
    const rest = code.slice(statement.end).split("\n")[0]!;
    const comment = /^\s*\/\/\s*(.*)$/.exec(rest);
    const expected = comment ? expectedResult(comment[1]!) : null;
    if (!expected) continue;
    const line = block.line - offset + source.getLineAndCharacterOfPosition(statement.getStart()).line;
    const check = `__checkDocResult(${statement.expression.getText()}, ${JSON.stringify(expected)}, ${JSON.stringify(`${block.file}:${line}`)});`;
    result = result.slice(0, statement.getStart()) + check + result.slice(statement.end);
  }
  return `${result}
function __checkDocResult(actual: unknown, expected: { kind: string; value?: unknown; entries?: Record<string, unknown> }, where: string): void {
  const got = actual as Record<string, unknown> | null;
  const ok = expected.kind === "value" ? Object.is(actual, expected.value) : got !== null && typeof got === "object" && Object.entries(expected.entries ?? {}).every(([k, v]) => Object.is(got[k], v));
  if (!ok) throw new Error(\`\${where}: the comment says \${JSON.stringify(expected.kind === "value" ? expected.value : expected.entries)}, the code gives \${JSON.stringify(actual)}\`);
}
`;
}

/** Runs the blocks marked `run`, each in its own empty directory, with the package names mapped as for the compiler. */
function runBlocks(written: Written[]): string[] {
  const tsconfig = join(workDir, "tsconfig.json");
  const paths = Object.fromEntries(Object.entries(packagePaths()).map(([name, file]) => [name, [relative(workDir, file)]]));
  writeFileSync(tsconfig, JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", paths } }, null, 2));
  const tsx = join(root, "node_modules", "tsx", "dist", "cli.mjs");
  const problems: string[] = [];
  for (const { block, path, offset } of written.filter((w) => w.block.mode === "run")) {
    const cwd = join(workDir, `run-${relative(workDir, path).replace(/\.ts$/, "")}`);
    mkdirSync(cwd, { recursive: true });
    const checked = path.replace(/\.ts$/, ".run.ts");
    writeFileSync(checked, withResultChecks(readFileSync(path, "utf8"), block, offset));
    const result = spawnSync(process.execPath, [tsx, "--tsconfig", tsconfig, checked], { cwd, encoding: "utf8", timeout: 60_000 });
    if (result.status !== 0) {
      problems.push(`${block.file}:${block.line}: the block exits with ${result.status ?? result.signal}\n${(result.stderr || result.stdout).trim().slice(0, 2000)}`);
    }
  }
  return problems;
}

function main(): void {
  const { blocks, problems } = collectBlocks();
  const written = writeBlocks(blocks);
  problems.push(...typecheck(written, docPages()));
  const run = !process.argv.includes("--no-run");
  if (run && problems.length === 0) problems.push(...runBlocks(written));
  const counts = { checked: written.length, ran: run ? written.filter((w) => w.block.mode === "run").length : 0, partial: blocks.length - written.length };
  if (problems.length > 0) {
    for (const problem of problems) console.error(problem);
    console.error(`check-docs: ${problems.length} problem(s) in ${counts.checked} type-checked blocks`);
    process.exitCode = 1;
    return;
  }
  console.log(`check-docs: ${counts.checked} blocks type-checked, ${counts.ran} run, ${counts.partial} partial`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
