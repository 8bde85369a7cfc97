#!/usr/bin/env node
// Proves the published package works: builds, packs a tarball, installs it
// into a fresh consumer project, then imports every subpath export (from
// JavaScript and through the TypeScript declarations), runs a create →
// authenticate round trip and the bin.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const work = mkdtempSync(join(tmpdir(), "ocr-pack-"));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });

try {
  const tarball = run("npm", ["pack", "--silent", "--pack-destination", work], root).trim().split("\n").pop();
  const consumer = join(work, "consumer");
  run("mkdir", ["-p", consumer], work);
  writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  const peerNames = Object.keys(pkg.peerDependencies ?? {});
  const typeNames = peerNames.map((n) => `@types/${n}`).filter((n) => pkg.devDependencies?.[n]);
  const peers = [...peerNames, ...typeNames].map((name) => `${name}@${pkg.devDependencies?.[name] ?? pkg.peerDependencies[name]}`);
  // No @types/node: the published types must not need it (a driver's own @types may still bring it along).
  run("npm", ["install", "--no-audit", "--no-fund", "--silent", join(work, tarball), ...peers, `typescript@${pkg.devDependencies.typescript}`], consumer);

  const subpaths = Object.keys(pkg.exports).filter((k) => k !== "./package.json");
  const specifiers = subpaths.map((k) => (k === "." ? pkg.name : `${pkg.name}/${k.slice(2)}`));
  const imports = specifiers.map((s, i) => `import * as m${i} from "${s}";`).join("\n");
  const body = `${imports}
import { createOAuthClientRegistry } from "${pkg.name}";
import { createMemoryStore } from "${pkg.name}/memory";
const modules = [${specifiers.map((_, i) => `m${i}`).join(", ")}];
for (const m of modules) if (Object.keys(m).length === 0) throw new Error("empty module");
import { createSqliteStore } from "${pkg.name}/sqlite";
import { createKyselyStore, migrateToLatest } from "${pkg.name}/kysely";
import { bearerTokenAuthorize, createFetchHandler } from "${pkg.name}/http";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";

const kysely = new Kysely({ dialect: new SqliteDialect({ database: new Database(":memory:") }) });
await migrateToLatest(kysely);
const stores = { memory: createMemoryStore(), sqlite: createSqliteStore(":memory:"), kysely: createKyselyStore(kysely) };
for (const [name, store] of Object.entries(stores)) {
  const registry = createOAuthClientRegistry(store);
  const client = await registry.create("acct", {
    client_name: "Packed",
    grant_types: ["authorization_code"],
    response_types: ["code"],
    redirect_uris: ["https://packed.example.com/cb"],
    scopes: ["profile"],
    token_endpoint_auth_method: "client_secret_basic",
  });
  const result = await registry.authenticate(client.client_id, client.client_secret ?? "");
  if (result?.matched !== "current") throw new Error(\`authentication failed on \${name}\`);
  const handler = createFetchHandler(registry, { authorize: () => true });
  const response = await handler(new Request(\`http://localhost/client/v4/accounts/acct/oauth_clients/\${client.client_id}\`));
  if (response.status !== 200) throw new Error(\`HTTP get failed on \${name}: \${response.status}\`);
  const guarded = createFetchHandler(registry, { authorize: bearerTokenAuthorize("packed-token") });
  const scopes = "http://localhost/client/v4/oauth/scopes";
  const statuses = [(await guarded(new Request(scopes))).status, (await guarded(new Request(scopes, { headers: { authorization: "Bearer packed-token" } }))).status];
  if (statuses.join() !== "401,200") throw new Error(\`bearer token authorize on \${name}: \${statuses.join()}\`);
}
await kysely.destroy();
console.log("consumer ok:", ${JSON.stringify(specifiers.join(", "))});
`;
  writeFileSync(join(consumer, "index.mjs"), body);
  writeFileSync(join(consumer, "index.ts"), body);
  writeFileSync(
    join(consumer, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", strict: true, noEmit: true, skipLibCheck: false, types: [] }, files: ["index.ts"] }),
  );
  process.stdout.write(run("node", ["index.mjs"], consumer));
  run(join(consumer, "node_modules/.bin/tsc"), ["-p", "."], consumer);
  console.log("consumer typecheck ok");

  // A Worker or browser project: the runtime-neutral entries type-check with
  // no Node types at all (lib ES + DOM, types []), under NodeNext resolution
  // and a bundler's; and no file of @types/node is in either program.
  writeFileSync(
    join(consumer, "neutral.ts"),
    `import { createOAuthClientRegistry, createDohResolveTxt, createFetchTransport, type OAuthClient } from "${pkg.name}";
import { createMemoryStore } from "${pkg.name}/memory";
import { createFetchHandler, createNodeRequestListener, type NodeRequestListener } from "${pkg.name}/http";
import { createRegistrationHandler } from "${pkg.name}/registration";
import { runStoreConformanceSuite } from "${pkg.name}/testing";
import { createD1Store } from "${pkg.name}/d1";

const registry = createOAuthClientRegistry(createMemoryStore(), { resolveTxt: createDohResolveTxt() });
export const handler: (request: Request) => Promise<Response> = createFetchHandler(registry, { authorize: () => true });
export const registration = createRegistrationHandler(registry, { accountId: "registered", baseUrl: "https://auth.example" });
export const bridge: (h: typeof handler) => NodeRequestListener = createNodeRequestListener;
export const transport = createFetchTransport({ timeoutMs: 1000 });
export const suite: typeof runStoreConformanceSuite = runStoreConformanceSuite;
export const d1: typeof createD1Store = createD1Store;
export async function first(): Promise<OAuthClient | undefined> {
  return (await registry.list("acct")).clients[0];
}
`,
  );
  for (const resolution of ["NodeNext", "Bundler"]) {
    writeFileSync(
      join(consumer, "tsconfig.neutral.json"),
      JSON.stringify({
        compilerOptions: {
          module: resolution === "Bundler" ? "ESNext" : "NodeNext", moduleResolution: resolution, target: "ES2022", lib: ["ES2022", "DOM", "DOM.Iterable"],
          strict: true, noEmit: true, skipLibCheck: false, types: [],
        },
        files: ["neutral.ts"],
      }),
    );
    run(join(consumer, "node_modules/.bin/tsc"), ["-p", "tsconfig.neutral.json"], consumer);
    const files = run(join(consumer, "node_modules/.bin/tsc"), ["-p", "tsconfig.neutral.json", "--listFilesOnly"], consumer);
    const nodeTypes = files.split("\n").filter((file) => file.includes("/@types/node/"));
    if (nodeTypes.length > 0) throw new Error(`the neutral entries pull in @types/node (${resolution}):\n${nodeTypes.slice(0, 5).join("\n")}`);
  }
  console.log("consumer typecheck of the runtime-neutral entries without @types/node ok (NodeNext, Bundler)");

  const help = run(join(consumer, "node_modules/.bin/oauth-client-registry"), ["serve", "--help"], consumer);
  if (!help.includes("--database-url")) throw new Error(`unexpected bin output:\n${help}`);
  console.log("consumer bin ok");

  // The D1 migrations ship as files, for wrangler d1 migrations apply.
  const migrations = join(consumer, "node_modules", pkg.name, "migrations", "d1");
  const shipped = readdirSync(migrations).filter((name) => name.endsWith(".sql"));
  if (shipped.length === 0) throw new Error(`no .sql files in ${migrations}`);
  console.log(`consumer D1 migrations ok: ${shipped.join(", ")}`);

  // An adapter author runs the exported conformance suite with their own vitest.
  writeFileSync(
    join(consumer, "store.test.mjs"),
    `import { runStoreConformanceSuite } from "${pkg.name}/testing";
import { createMemoryStore } from "${pkg.name}/memory";
runStoreConformanceSuite("packed memory store", async () => ({ store: createMemoryStore() }));
`,
  );
  const report = run(join(consumer, "node_modules/.bin/vitest"), ["run", "--reporter=dot", "store.test.mjs"], consumer);
  if (!/passed/.test(report)) throw new Error(`conformance suite did not run:\n${report}`);
  console.log("consumer conformance suite ok");
} finally {
  rmSync(work, { recursive: true, force: true });
}
