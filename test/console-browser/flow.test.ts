/**
 * The operator's path through the console in a real browser, against
 * `serve` on a SQLite file: sign in, create (a field error, then fixed),
 * the secret shown once and working, rotation (then with a grace period
 * whose end the secrets panel shows), an edit that loses a race
 * (412), verification and promotion, deletion after typing the name.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCOUNT, axeViolations, clipboard, openTab, signIn, startConsole, type ConsoleFixture } from "./harness.js";

const HOSTILE_NAME = "<img src=x onerror=alert(1)>";

let fixture: ConsoleFixture;
beforeAll(async () => {
  fixture = await startConsole();
});
afterAll(async () => {
  await fixture?.close();
});

describe("the console's core flow", () => {
  it("creates, rotates, edits under a race, promotes and deletes a client, as the library sees it", async () => {
    const { page, context, trouble } = await openTab(fixture);
    const violations: string[] = [];
    const audit = async (view: string) => violations.push(...(await axeViolations(page)).map((v) => `${view}: ${v}`));

    // Sign-in: labelled fields, nothing stored before it.
    await page.goto(`${fixture.origin}/`);
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    await audit("sign-in");
    await signIn(page, fixture.origin);
    await page.getByRole("heading", { name: "No clients yet" }).waitFor();
    await audit("empty list");

    // Create: the API's issue appears at its field (second redirect URI: http off loopback).
    await page.getByRole("link", { name: "Create client" }).click();
    await page.getByLabel("Client name", { exact: true }).fill(HOSTILE_NAME);
    await page.getByLabel("Redirect URIs", { exact: true }).fill("https://app.example.com/cb\nhttp://app.example.com/cb");
    await page.getByLabel("Token endpoint auth method", { exact: true }).selectOption("client_secret_basic");
    await audit("create form");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    const redirectError = page.locator("#error-redirect_uris");
    await redirectError.waitFor();
    expect(await redirectError.innerText()).toMatch(/^Line 2: /);
    await expect(page.getByLabel("Redirect URIs", { exact: true }).getAttribute("aria-invalid")).resolves.toBe("true");
    await audit("create form with an error");
    await page.getByLabel("Redirect URIs", { exact: true }).fill("https://app.example.com/cb");
    await page.getByRole("button", { name: "Create", exact: true }).click();

    // The secret, once: copied from the dialog, it authenticates with the library.
    const secretDialog = page.getByRole("dialog", { name: "Client secret" });
    await secretDialog.waitFor();
    await secretDialog.getByText("You will not see this again").waitFor();
    await audit("secret dialog");
    await secretDialog.getByRole("button", { name: "Copy secret" }).click();
    await secretDialog.getByRole("button", { name: "Copied", exact: true }).waitFor();
    const firstSecret = await clipboard(page);
    expect(firstSecret.length).toBeGreaterThanOrEqual(43);
    await secretDialog.getByRole("button", { name: /close/ }).click();
    await page.locator("#secret-value").waitFor({ state: "detached" });
    expect(await page.content()).not.toContain(firstSecret);

    const clientId = decodeURIComponent(new URL(page.url()).hash.split("/")[2]!);
    expect((await fixture.registry.authenticate(clientId, firstSecret))?.matched).toBe("current");
    // The hostile name is a heading's text, nothing more.
    await page.getByRole("heading", { level: 1, name: HOSTILE_NAME }).waitFor();
    await audit("client detail");

    // Rotate: both secrets work until the rotated one is deleted.
    await page.getByRole("button", { name: "Rotate secret" }).click();
    await secretDialog.waitFor();
    await secretDialog.getByRole("button", { name: "Copy secret" }).click();
    await secretDialog.getByRole("button", { name: "Copied", exact: true }).waitFor();
    const secondSecret = await clipboard(page);
    expect(secondSecret).not.toBe(firstSecret);
    await secretDialog.getByRole("button", { name: /close/ }).click();
    await page.locator("#secret-value").waitFor({ state: "detached" });
    expect(await page.content()).not.toContain(secondSecret);
    expect((await fixture.registry.authenticate(clientId, secondSecret))?.matched).toBe("current");
    expect((await fixture.registry.authenticate(clientId, firstSecret))?.matched).toBe("rotated");
    await page.getByText(/A rotated secret still authenticates\. Last used: /).waitFor();
    await page.getByText("It keeps working until you delete it", { exact: false }).waitFor();
    await page.getByRole("button", { name: "Delete rotated secret" }).click();
    await page.getByRole("button", { name: "Rotate secret" }).waitFor();
    expect(await fixture.registry.authenticate(clientId, firstSecret)).toBeNull();
    expect((await fixture.registry.authenticate(clientId, secondSecret))?.matched).toBe("current");

    // Rotate with a grace period: a value out of range is refused at the field, nothing rotates;
    // then 2 hours, and the secrets panel says when the old secret stops working.
    const grace = page.getByLabel("Grace period for the old secret (hours)");
    await grace.fill("0");
    await page.getByRole("button", { name: "Rotate secret" }).click();
    await page.getByText("Enter whole hours from 1 to 2160, or leave it empty.").waitFor();
    await expect(grace.getAttribute("aria-invalid")).resolves.toBe("true");
    expect((await fixture.registry.get(ACCOUNT, clientId)).has_rotated_secret).toBe(false);
    await grace.fill("2");
    const rotatedAt = Date.now();
    await page.getByRole("button", { name: "Rotate secret" }).click();
    await secretDialog.waitFor();
    await secretDialog.getByRole("button", { name: "Copy secret" }).click();
    await secretDialog.getByRole("button", { name: "Copied", exact: true }).waitFor();
    const thirdSecret = await clipboard(page);
    await secretDialog.getByRole("button", { name: /close/ }).click();
    await page.locator("#secret-value").waitFor({ state: "detached" });
    await page.getByText("the previous secret keeps working for 2 hours").waitFor();
    const ends = (await fixture.registry.get(ACCOUNT, clientId)).rotated_secret_expires_at!;
    expect(Math.abs(Date.parse(ends) - (rotatedAt + 2 * 3_600_000))).toBeLessThan(60_000);
    const end = page.locator("#rotated-secret-end");
    await expect(end.innerText()).resolves.toMatch(/^It stops working on .+\. Delete it sooner/);
    await expect(end.locator("time").getAttribute("datetime")).resolves.toBe(ends);
    await audit("secrets with a grace period");
    expect((await fixture.registry.authenticate(clientId, secondSecret))?.matched).toBe("rotated");
    await page.getByRole("button", { name: "Delete rotated secret" }).click();
    await page.getByRole("button", { name: "Rotate secret" }).waitFor();
    expect(await fixture.registry.authenticate(clientId, secondSecret)).toBeNull();
    expect((await fixture.registry.authenticate(clientId, thirdSecret))?.matched).toBe("current");

    // Edit while someone else changes the client: 412, reload, then the edit goes through.
    await page.getByRole("link", { name: "Edit" }).click();
    await page.getByLabel("Logo URI", { exact: true }).waitFor();
    await fixture.registry.update(ACCOUNT, clientId, { policy_uri: "https://app.example.com/policy" });
    await page.getByLabel("Logo URI", { exact: true }).fill("https://app.example.com/logo.png");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByText("Someone else changed this client").waitFor();
    await audit("edit conflict");
    await page.getByRole("button", { name: "Reload" }).click();
    // The form is drawn again from the current version (the API's change included).
    await expect.poll(() => page.getByLabel("Policy URI", { exact: true }).inputValue()).toBe("https://app.example.com/policy");
    await page.getByLabel("Logo URI", { exact: true }).fill("https://app.example.com/logo.png");
    await page.getByLabel("Client URI", { exact: true }).fill("https://app.example.com/");
    await page.getByRole("button", { name: "+ account.read" }).first().click();
    await expect(page.getByLabel("Scopes", { exact: true }).inputValue()).resolves.toBe("account.read");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("heading", { name: "Promotion to public" }).waitFor();
    expect((await fixture.registry.get(ACCOUNT, clientId)).logo_uri).toBe("https://app.example.com/logo.png");

    // Promotion: the checklist shows what is missing and the TXT record to publish.
    const checklist = page.locator(".checklist");
    await expect(checklist.innerText()).resolves.toContain("A verified client URI: missing");
    const promote = page.getByRole("button", { name: "Promote to public" });
    await expect(promote.isDisabled()).resolves.toBe(true);
    await audit("promotion checklist");
    const record = await page.locator("#txt-record").innerText();
    await page.getByRole("button", { name: "Copy TXT record" }).click();
    await page.getByRole("button", { name: "Copied", exact: true }).waitFor();
    await expect(clipboard(page)).resolves.toBe(record);
    await page.getByRole("button", { name: "Check now" }).click();
    await page.getByText(/Not verified yet/).waitFor();
    // The record is published; "Check now" asks the server to look. A server
    // without the verify_client_uri route verifies in the background: the
    // second registry stands in for it, and the page shows the result on reload.
    fixture.txt.set("app.example.com", [[record]]);
    await page.getByRole("button", { name: "Check now" }).click();
    const verified = page.getByText("The client URI is verified.");
    await Promise.race([verified.waitFor(), page.getByText(/Not verified yet/).waitFor()]);
    if (!(await verified.isVisible())) {
      await fixture.registry.verifyClientUri(ACCOUNT, clientId);
      await page.reload();
    }
    await expect.poll(() => checklist.innerText()).toContain("A verified client URI: done");
    await expect.poll(() => promote.isEnabled()).toBe(true);
    await promote.click();
    await page.getByRole("heading", { name: "Public", exact: true }).waitFor();
    expect((await fixture.registry.get(ACCOUNT, clientId)).visibility).toBe("public");

    // Delete only after typing the name.
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    const deleteDialog = page.getByRole("dialog", { name: "Delete this client?" });
    const confirm = deleteDialog.getByRole("button", { name: "Delete client" });
    await expect(confirm.isDisabled()).resolves.toBe(true);
    await audit("delete dialog");
    await deleteDialog.getByLabel(/Type the client name/).fill("<img");
    await expect(confirm.isDisabled()).resolves.toBe(true);
    await deleteDialog.getByLabel(/Type the client name/).fill(HOSTILE_NAME);
    await confirm.click();
    await page.getByRole("heading", { name: "No clients yet" }).waitFor();
    await expect(fixture.registry.get(ACCOUNT, clientId)).rejects.toMatchObject({ status: 404 });

    // Sign-out drops the credentials of the tab.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API token").waitFor();
    await expect(page.evaluate(() => sessionStorage.length)).resolves.toBe(0);

    expect(violations).toEqual([]);
    expect(trouble).toEqual({ dialogs: [], errors: [] });
    await context.close();
  });
});
