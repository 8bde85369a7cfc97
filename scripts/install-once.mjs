// Other runtimes (Node 22, Bun, Deno, workerd) come from the npm registry as
// packages, installed once into a prefix of their own under $RUNTIMES_DIR
// (default /tmp/oauth-registry-runtimes) and reused by every later run.
// Shared by scripts/runtimes.mjs and the benchmark's driver rows
// (bench/sqlite-runtimes.ts), so both use the same copies.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

/** Where the runtimes are installed. */
export const runtimesDir = process.env.RUNTIMES_DIR ?? "/tmp/oauth-registry-runtimes";

/**
 * Installs npm `packages` into the prefix `prefix` unless `probe` (a path
 * under its node_modules) already exists; returns that node_modules. Throws
 * when npm fails (no network, say). `log` hears how long an install took.
 */
export function installOnce(prefix, packages, probe, log = console.log) {
  const modules = join(runtimesDir, prefix, "node_modules");
  if (!existsSync(join(modules, probe))) {
    const started = Date.now();
    mkdirSync(join(runtimesDir, prefix), { recursive: true });
    execFileSync("npm", ["install", "--prefix", join(runtimesDir, prefix), "--no-audit", "--no-fund", "--no-save", ...packages], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    log(`installed ${packages.join(" ")} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  }
  return modules;
}
