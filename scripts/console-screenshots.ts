/**
 * `npm run console:screenshots`: starts `serve` on a temporary SQLite file,
 * fills it with a few clients, and writes the PNGs docs/console.md shows to
 * docs/console/. Needs Chromium (CHROMIUM_PATH, default /usr/bin/chromium).
 */
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { ACCOUNT, openTab, signIn, startConsole } from "../test/console-browser/harness.js";

const OUT = fileURLToPath(new URL("../docs/console/", import.meta.url));
await mkdir(OUT, { recursive: true });
const fixture = await startConsole();
try {
  const base = { grant_types: ["authorization_code" as const], response_types: ["code" as const], redirect_uris: ["https://app.example.com/callback"] };
  const dashboard = await fixture.registry.create(ACCOUNT, {
    ...base,
    client_name: "Dashboard",
    grant_types: ["authorization_code", "refresh_token"],
    scopes: ["profile", "account.read"],
    token_endpoint_auth_method: "client_secret_basic",
    client_uri: "https://dash.example.com/",
    logo_uri: "https://dash.example.com/logo.png",
  });
  await fixture.registry.authenticate(dashboard.client_id, dashboard.client_secret!);
  await fixture.registry.create(ACCOUNT, { ...base, client_name: "Mobile app", redirect_uris: ["com.example.app:/callback"], scopes: [], token_endpoint_auth_method: "none" });
  await fixture.registry.registerClient(ACCOUNT, { ...base, client_name: "MCP inspector", scopes: [], token_endpoint_auth_method: "none" });

  const { page } = await openTab(fixture, { width: 960, height: 600 });
  await page.goto(`${fixture.origin}/`);
  await page.screenshot({ path: `${OUT}sign-in.png` });
  await signIn(page, fixture.origin);
  await page.getByRole("link", { name: "Dashboard" }).waitFor();
  await page.screenshot({ path: `${OUT}clients.png` });

  await page.getByRole("link", { name: "Create client" }).click();
  await page.getByLabel("Client name", { exact: true }).fill("Billing");
  await page.getByLabel("Redirect URIs", { exact: true }).fill("http://billing.example.com/callback");
  await page.getByRole("button", { name: "Create", exact: true }).click();
  await page.locator("#error-redirect_uris").waitFor();
  await page.locator('[data-field="redirect_uris"]').scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${OUT}field-error.png` });
  await page.getByLabel("Redirect URIs", { exact: true }).fill("https://billing.example.com/callback");
  await page.getByRole("button", { name: "Create", exact: true }).click();
  await page.getByRole("dialog", { name: "Client secret" }).waitFor();
  await page.screenshot({ path: `${OUT}secret.png` });
  await page.getByRole("button", { name: /close/ }).click();

  await page.goto(`${fixture.origin}/#/clients/${dashboard.client_id}`);
  await page.getByRole("heading", { name: "Promotion to public" }).waitFor();
  await page.locator('section[aria-labelledby="promotion-title"]').screenshot({ path: `${OUT}promotion.png` });

  const phone = await openTab(fixture, { width: 375, colorScheme: "dark" });
  await signIn(phone.page, fixture.origin);
  await phone.page.getByRole("link", { name: "Dashboard" }).waitFor();
  await phone.page.screenshot({ path: `${OUT}clients-375-dark.png` });
  console.log(`wrote the screenshots to ${OUT}`);
} finally {
  await fixture.close();
}
