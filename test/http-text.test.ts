/**
 * Text over HTTP: JSON can carry a lone surrogate (`"\ud800"` is valid JSON),
 * which is refused with a pointer; display spoofing characters in
 * client_name are refused by name; and what is accepted reads back exactly.
 */
import { describe, expect, it } from "vitest";
import { ACCOUNT, apiRequest, createHarness, envelopeOf, validCreateBody } from "./helpers/http.js";

const clients = `/accounts/${ACCOUNT}/oauth_clients`;

describe("text over HTTP", () => {
  it("a lone surrogate sent as a JSON escape is refused with a pointer to the exact entry; nothing is stored", async () => {
    const { handler, registry } = createHarness();
    const body = JSON.stringify(
      validCreateBody({ redirect_uris: ["https://dash.example.com/callback", "https://dash.example.com/\ud83d"] }),
    );
    expect(body).toContain("\\ud83d");
    const response = await handler(apiRequest("POST", clients, { body, headers: { "content-type": "application/json" } }));
    expect(response.status).toBe(400);
    expect((await envelopeOf(response)).errors).toEqual([
      {
        code: 1000,
        message:
          "must be well-formed Unicode: it contains a lone UTF-16 surrogate (U+D83D at index 25), which no database can store as text",
        source: { pointer: "/redirect_uris/1" },
      },
    ]);
    expect((await registry.list(ACCOUNT)).clients).toEqual([]);
  });

  it("a bidi override in client_name is refused by name, on create and on update", async () => {
    const { handler, registry } = createHarness();
    const expected = {
      code: 1000,
      message:
        "must not contain U+202E (RIGHT-TO-LEFT OVERRIDE): it changes the order in which the text around it is displayed",
      source: { pointer: "/client_name" },
    };
    const created = await handler(apiRequest("POST", clients, { json: validCreateBody({ client_name: "Invoice\u202efdp.exe" }) }));
    expect(created.status).toBe(400);
    expect((await envelopeOf(created)).errors).toEqual([expected]);

    const client = await registry.create(ACCOUNT, validCreateBody() as never);
    const patched = await handler(
      apiRequest("PATCH", `${clients}/${client.client_id}`, { json: { client_name: "Dash\u2066board" } }),
    );
    expect(patched.status).toBe(400);
    expect((await envelopeOf(patched)).errors[0]).toMatchObject({ source: { pointer: "/client_name" }, message: /U\+2066 \(LEFT-TO-RIGHT ISOLATE\)/ });
    expect((await registry.get(ACCOUNT, client.client_id)).client_name).toBe("Dashboard");
  });

  it("accepted non-ASCII text reads back exactly as sent", async () => {
    const { handler } = createHarness();
    const name = "Ünïcødé 👩🏽‍💻 مرحبا שלום e\u0301 \u00e9 𠀋";
    const created = await handler(apiRequest("POST", clients, { json: validCreateBody({ client_name: name }) }));
    expect(created.status).toBe(200);
    const { client_id } = (await envelopeOf(created)).result as { client_id: string };
    const read = await handler(apiRequest("GET", `${clients}/${client_id}`));
    expect(((await envelopeOf(read)).result as { client_name: string }).client_name).toBe(name);
  });
});
