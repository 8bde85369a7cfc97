/**
 * What the browser tests of the console share: `serve` on a temporary
 * SQLite file, a second registry on the same file (with a fake DNS resolver)
 * standing in for the operator's other tools, and Debian's Chromium driven
 * by playwright-core.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import axe from "axe-core";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { createSqliteStore } from "../../adapters/sqlite.js";
import { parseServeArgs } from "../../src/cli/args.js";
import { serve, type RunningServer } from "../../src/cli/serve.js";
import { createOAuthClientRegistry, type OAuthClientRegistry } from "../../src/index.js";

export const TOKEN = "console-test-token-0123456789abcdef";
export const ACCOUNT = "acct-console";

/** Chromium from Debian's package unless CHROMIUM_PATH names another. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Flags that keep Chromium off the network it cannot reach here and quiet at start-up. */
const CHROMIUM_ARGS = [
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

/** TXT records the fake resolver answers, by host name. */
export type TxtRecords = Map<string, string[][]>;

export interface ConsoleFixture {
  /** Origin of the server, e.g. `http://127.0.0.1:43123`. */
  origin: string;
  running: RunningServer;
  /** A registry on the same database, as another process would have. */
  registry: OAuthClientRegistry;
  txt: TxtRecords;
  browser: Browser;
  close(): Promise<void>;
}

/** Starts `serve` (with a scope catalog) on a fresh SQLite file and launches Chromium; credentials from `env` (default: {@link TOKEN}). */
export async function startConsole(env: Record<string, string> = { OAUTH_REGISTRY_API_TOKEN: TOKEN }): Promise<ConsoleFixture> {
  const dir = await mkdtemp(join(tmpdir(), "console-browser-"));
  const db = join(dir, "clients.sqlite");
  const catalog = join(dir, "scopes.json");
  await writeFile(catalog, JSON.stringify([{ id: "account.read", name: "Read the account" }, "zone.read"]));
  const lines: string[] = [];
  const txt: TxtRecords = new Map();
  const resolveTxt = async (host: string) => txt.get(host) ?? [];
  const running = await serve(
    // `verification` reaches a serve that verifies client_uri itself; one that does not ignores it.
    Object.assign(parseServeArgs(["--port", "0", "--db", db, "--scope-catalog", catalog], {}), { verification: { resolveTxt } }),
    env,
    { out: (line) => lines.push(line), err: (line) => lines.push(line) },
  );
  const store = await createSqliteStore(db);
  const registry = createOAuthClientRegistry(store, {
    scopeCatalog: ["account.read", "zone.read"],
    resolveTxt,
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // Root cannot use Chromium's sandbox; CI runs as root.
    args: process.getuid?.() === 0 ? ["--no-sandbox", ...CHROMIUM_ARGS] : CHROMIUM_ARGS,
  });
  return {
    origin: new URL(running.url).origin,
    running,
    registry,
    txt,
    browser,
    async close() {
      await browser.close();
      await running.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** What a page did that it must never do: script dialogs (an injected alert), uncaught errors, CSP violations. */
export interface PageTrouble {
  dialogs: string[];
  errors: string[];
}

/** A new tab in its own context (own sessionStorage), watched for trouble. */
export async function openTab(fixture: ConsoleFixture, options: { width?: number; height?: number; colorScheme?: "light" | "dark" } = {}): Promise<{ page: Page; context: BrowserContext; trouble: PageTrouble }> {
  const context = await fixture.browser.newContext({
    viewport: { width: options.width ?? 1200, height: options.height ?? 900 },
    colorScheme: options.colorScheme ?? "light",
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: fixture.origin });
  const page = await context.newPage();
  const trouble: PageTrouble = { dialogs: [], errors: [] };
  page.on("dialog", (dialog) => {
    trouble.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on("pageerror", (error) => trouble.errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error" && !/Failed to load resource/.test(message.text())) trouble.errors.push(message.text());
  });
  return { page, context, trouble };
}

/** Signs in with the bearer token, as an operator would. */
export async function signIn(page: Page, origin: string): Promise<void> {
  await page.goto(`${origin}/`);
  await page.getByLabel("API token").fill(TOKEN);
  await page.getByLabel("Account ID").fill(ACCOUNT);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "OAuth clients" }).waitFor();
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(axe.source);
  const results = await page.evaluate(() =>
    (window as unknown as { axe: typeof axe }).axe.run(document, { resultTypes: ["violations"] }),
  );
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

/** The text on the clipboard (the copy buttons write it). */
export function clipboard(page: Page): Promise<string> {
  return page.evaluate(() => navigator.clipboard.readText());
}
