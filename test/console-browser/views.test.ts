/**
 * The console's views beyond the core flow, in a real browser: hostile
 * values rendered as text and linked only when safe, paging and filters over
 * 60 clients, self-registered clients marked and purged after a preview,
 * key + email sign-in, keyboard-only use, a 375 px screen and dark mode.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { Page } from "playwright-core";
import type { CreateClientInput } from "../../src/index.js";
import { ACCOUNT, axeViolations, openTab, signIn, startConsole, TOKEN, type ConsoleFixture } from "./harness.js";

const HOSTILE = {
  name: '"><script>window.__injected = 1</script>',
  redirects: [
    "https://app.example.com/cb?x=\"'><img/src=x/onerror=window.__injected=2>",
    "com.example.app:/cb",
    "http://127.0.0.1:8080/cb",
    "https://app.example.com/cb?next=javascript:alert(1)",
  ],
  policy: "https://app.example.com/?'onmouseover='window.__injected=3",
};

const base = (): Omit<CreateClientInput, "client_name" | "redirect_uris"> => ({
  grant_types: ["authorization_code"],
  response_types: ["code"],
  scopes: [],
  token_endpoint_auth_method: "none",
});

let fixture: ConsoleFixture;
beforeAll(async () => {
  fixture = await startConsole();
});
afterAll(async () => {
  await fixture?.close();
});

/** Hrefs of the links in the main view (the console's own links start with #). */
async function outsideLinks(page: Page): Promise<string[]> {
  return page.locator("#view a[href]").evaluateAll((links) => links.map((a) => a.getAttribute("href") ?? "").filter((href) => !href.startsWith("#")));
}

describe("the console's views", () => {
  it("shows hostile values as text and links only https or loopback http", async () => {
    const created = await fixture.registry.create(ACCOUNT, { ...base(), client_name: HOSTILE.name, redirect_uris: HOSTILE.redirects, policy_uri: HOSTILE.policy });
    // Removed even when an assertion fails, so the next test counts only its own clients.
    onTestFinished(() => fixture.registry.delete(ACCOUNT, created.client_id).then(() => undefined, () => undefined));
    const { page, context, trouble } = await openTab(fixture);
    await signIn(page, fixture.origin);
    const row = page.getByRole("link", { name: HOSTILE.name });
    await expect(row.innerText()).resolves.toBe(HOSTILE.name);
    await row.click();
    // The detail view replaces the list once its GET answers: wait for its heading, then read it.
    await page.locator("h1#detail-title").waitFor();
    await expect(page.getByRole("heading", { level: 1 }).innerText()).resolves.toBe(HOSTILE.name);
    for (const uri of HOSTILE.redirects) await expect(page.getByText(uri, { exact: true }).count()).resolves.toBe(1);
    const hrefs = await outsideLinks(page);
    expect(hrefs.sort()).toEqual([new URL(HOSTILE.redirects[0]!).href, new URL(HOSTILE.redirects[2]!).href, new URL(HOSTILE.redirects[3]!).href, new URL(HOSTILE.policy).href].sort());
    // The private-use URI is text, not a link.
    await expect(page.getByRole("link", { name: "com.example.app:/cb" }).count()).resolves.toBe(0);
    await expect(page.evaluate(() => (window as { __injected?: number }).__injected)).resolves.toBeUndefined();
    expect(await axeViolations(page)).toEqual([]);
    expect(trouble).toEqual({ dialogs: [], errors: [] });
    await context.close();
  });

  it("pages through 60 clients, filters by source and use, marks self-registered clients and purges idle ones after a preview", async () => {
    for (let i = 0; i < 57; i++) {
      await fixture.registry.create(ACCOUNT, { ...base(), client_name: `Client ${String(i).padStart(2, "0")}`, redirect_uris: ["https://app.example.com/cb"] });
    }
    const used = await fixture.registry.create(ACCOUNT, { ...base(), client_name: "Used one", redirect_uris: ["https://app.example.com/cb"], token_endpoint_auth_method: "client_secret_basic" });
    await fixture.registry.authenticate(used.client_id, used.client_secret!);
    for (const name of ["Registered A", "Registered B"]) {
      await fixture.registry.registerClient(ACCOUNT, { ...base(), client_name: name, redirect_uris: ["https://app.example.com/cb"] });
    }
    const { page, context, trouble } = await openTab(fixture);
    await signIn(page, fixture.origin);
    // The first page as an operator opens it, and the script time its render took (reported, not asserted).
    const cdp = await context.newCDPSession(page);
    await cdp.send("Performance.enable");
    const scriptTime = async () => ((await cdp.send("Performance.getMetrics")).metrics.find((m) => m.name === "ScriptDuration")?.value ?? 0) * 1000;
    await page.goto("about:blank");
    const before = await scriptTime();
    await page.goto(`${fixture.origin}/#/`);
    const rows = page.locator("table.clients tbody tr");
    await rows.nth(49).waitFor();
    console.log(`console: first render of a 50-client page took ${(await scriptTime() - before).toFixed(1)} ms of script time`);
    await expect(rows.count()).resolves.toBe(50);
    expect(await axeViolations(page)).toEqual([]);
    const firstPage = await rows.locator("td:first-child").allInnerTexts();
    await page.getByRole("button", { name: "Next page" }).click();
    await page.getByRole("button", { name: "First page" }).waitFor();
    await expect(rows.count()).resolves.toBe(10);
    const secondPage = await rows.locator("td:first-child").allInnerTexts();
    expect(new Set([...firstPage, ...secondPage]).size).toBe(60);

    // Filters: self-registered only, then never used, then used at least once.
    await page.getByLabel("Source", { exact: true }).selectOption("dcr");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.getByRole("button", { name: "First page" }).waitFor({ state: "detached" });
    await expect(rows.locator("td:first-child").allInnerTexts()).resolves.toEqual(expect.arrayContaining(["Registered A", "Registered B"]));
    await expect(rows.count()).resolves.toBe(2);
    await rows.first().getByText("self-registered").waitFor();
    await page.getByLabel("Source", { exact: true }).selectOption("");
    await page.getByLabel("Use", { exact: true }).selectOption("used");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.getByRole("link", { name: "Used one" }).waitFor();
    await expect(rows.count()).resolves.toBe(1);
    await page.getByLabel("Use", { exact: true }).selectOption("never");
    await page.getByLabel("Source", { exact: true }).selectOption("cimd");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.getByText("No client matches these filters.").waitFor();

    // Purge, through the server's purge route: the preview lists what will go, as the server
    // selects it (never used counts from registration, so clients registered just now are not
    // idle for 30 days); nothing goes before the confirmation.
    await page.getByRole("link", { name: "Purge idle self-registered clients" }).click();
    await page.getByRole("button", { name: "Preview" }).click();
    await page.getByText("No self-registered client is idle that long.").waitFor();
    await page.getByLabel("Idle for at least (days)").fill("-1");
    await page.getByRole("button", { name: "Preview" }).click();
    await page.getByText("Enter whole days from 0 to 3650.").waitFor();
    await page.getByLabel("Idle for at least (days)").fill("0");
    await page.getByRole("button", { name: "Preview" }).click();
    await page.getByText("2 clients will be deleted:").waitFor();
    await expect(page.locator("ul.values li").allInnerTexts()).resolves.toEqual([
      expect.stringMatching(/^Registered A \([0-9a-f]{32}, dcr, last used never\)$/),
      expect.stringMatching(/^Registered B \([0-9a-f]{32}, dcr, last used never\)$/),
    ]);
    expect(await axeViolations(page)).toEqual([]);
    expect((await fixture.registry.list(ACCOUNT, { source: "dcr" })).clients).toHaveLength(2);
    expect((await fixture.registry.list(ACCOUNT, { limit: 100 })).clients).toHaveLength(60);
    await page.getByRole("button", { name: "Delete these 2 clients" }).click();
    await page.getByText("2 of 2 idle clients deleted.").waitFor();
    expect((await fixture.registry.list(ACCOUNT, { source: "dcr" })).clients).toHaveLength(0);
    // Only the self-registered clients went.
    expect((await fixture.registry.list(ACCOUNT, { limit: 100 })).clients).toHaveLength(58);
    expect(trouble).toEqual({ dialogs: [], errors: [] });
    await context.close();
  });

  it("signs in with an API key and email, refuses a wrong credential, and keeps credentials to the tab", async () => {
    const keyed = await startConsole({ OAUTH_REGISTRY_API_KEY: "console-test-key-0123456789", OAUTH_REGISTRY_API_EMAIL: "ops@example.com" });
    try {
      const { page } = await openTab(keyed);
      await page.goto(`${keyed.origin}/`);
      await page.getByLabel("API token").fill(TOKEN);
      await page.getByLabel("Account ID").fill(ACCOUNT);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByText("These credentials were refused.").waitFor();
      await page.getByRole("button", { name: "Use an API key and email instead" }).click();
      await page.getByLabel("API key").fill("console-test-key-0123456789");
      await page.getByLabel("Email").fill("ops@example.com");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "No clients yet" }).waitFor();
      expect(await axeViolations(page)).toEqual([]);
      // Another tab (a new context here: its own session storage) starts signed out.
      const other = await openTab(keyed);
      await other.page.goto(`${keyed.origin}/`);
      await other.page.getByLabel("API token").waitFor();
    } finally {
      await keyed.close();
    }
  });

  it("works from the keyboard alone, at 375 px wide, in dark mode", async () => {
    const { page, context, trouble } = await openTab(fixture, { width: 375, colorScheme: "dark" });
    await page.goto(`${fixture.origin}/`);
    // The sign-in form takes focus; Tab moves through it; Enter submits.
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe("token");
    await page.keyboard.type(TOKEN);
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe("account");
    await page.keyboard.type(ACCOUNT);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "OAuth clients" }).waitFor();
    const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    await expect(fits()).resolves.toBe(true);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe("rgb(18, 19, 23)");
    expect(await axeViolations(page)).toEqual([]);
    // Open a client with the keyboard: filter, focus its link, press Enter.
    await page.getByLabel("Use", { exact: true }).selectOption("used");
    await page.getByRole("button", { name: "Apply filters" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("link", { name: "Used one" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Used one" }).waitFor();
    await expect(fits()).resolves.toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole("link", { name: "Edit" }).focus();
    await page.keyboard.press("Enter");
    await page.getByLabel("Client name", { exact: true }).waitFor();
    await expect(fits()).resolves.toBe(true);
    // The delete dialog opens, holds focus in its field, and Escape closes it.
    await page.goBack();
    await page.getByRole("button", { name: "Delete", exact: true }).focus();
    await page.keyboard.press("Enter");
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe("confirm-name");
    await page.keyboard.press("Escape");
    await page.getByRole("dialog").waitFor({ state: "detached" });
    expect(trouble).toEqual({ dialogs: [], errors: [] });
    await context.close();
  });
});
