/**
 * Registration offers only the response types of grants this server has:
 * `token` and `id_token` pair with the implicit grant (RFC 7591 §2.1,
 * OpenID Connect Registration §2), which does not exist here, so RFC 7591
 * registration and RFC 7592 update refuse them at `/response_types/N`. The
 * management API keeps accepting them.
 */
import { describe, expect, it } from "vitest";
import { ValidationError } from "../src/index.js";
import { createRegistrationHandler } from "../src/registration/index.js";
import { createBody, registryFixture } from "./helpers/registry.js";

const METADATA = { client_name: "Tool", redirect_uris: ["https://tool.example.com/cb"], token_endpoint_auth_method: "none" };

type Body = Record<string, unknown> & { issues?: { path: string; message: string }[] };

function setup() {
  const fixture = registryFixture();
  const handler = createRegistrationHandler(fixture.registry, { accountId: "registered", baseUrl: "https://as.example" });
  const send = async (path: string, method: string, json?: unknown, token?: string) => {
    const headers = new Headers();
    if (json !== undefined) headers.set("content-type", "application/json");
    if (token !== undefined) headers.set("authorization", `Bearer ${token}`);
    const response = await handler(new Request(`https://as.example${path}`, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) }));
    const text = await response.text();
    return { status: response.status, body: (text === "" ? {} : JSON.parse(text)) as Body };
  };
  return { ...fixture, send };
}

describe("registration refuses response types whose grant does not exist", () => {
  it.each([
    [["token"], 0, "token"],
    [["code", "token"], 1, "token"],
    [["code", "id_token"], 1, "id_token"],
  ])("POST /register with response_types %j: 400 invalid_client_metadata at /response_types/%i, nothing stored", async (types, index, type) => {
    const { send, registry } = setup();
    const { status, body } = await send("/register", "POST", { ...METADATA, response_types: types });
    expect(status).toBe(400);
    expect(body.error).toBe("invalid_client_metadata");
    expect(body.issues).toEqual([{ path: `/response_types/${index}`, message: expect.stringContaining(`"${type}" needs the implicit grant`) }]);
    expect(body.error_description).toContain("implicit grant");
    expect((await registry.list("registered")).clients).toEqual([]);
  });

  it("keeps registering code clients, with or without response_types sent", async () => {
    const { send } = setup();
    const defaulted = await send("/register", "POST", METADATA);
    expect(defaulted.status).toBe(201);
    expect(defaulted.body.response_types).toEqual(["code"]);
    const code = await send("/register", "POST", { ...METADATA, response_types: ["code"], scope: "profile" });
    expect(code.status).toBe(201);
    expect(code.body.response_types).toEqual(["code"]);
  });

  it("reports the response type with every other problem at once", async () => {
    const { send } = setup();
    const { status, body } = await send("/register", "POST", { ...METADATA, client_name: "", response_types: ["token", "code", "id_token"] });
    expect(status).toBe(400);
    expect(body.issues?.map((issue) => issue.path)).toEqual(expect.arrayContaining(["/client_name", "/response_types/0", "/response_types/2"]));
  });

  it("RFC 7592 PUT with token is refused the same way; the registration and its access token are unchanged", async () => {
    const { send } = setup();
    const created = await send("/register", "POST", METADATA);
    const path = `/register/${created.body.client_id as string}`;
    const token = created.body.registration_access_token as string;
    const { status, body } = await send(path, "PUT", { ...METADATA, client_id: created.body.client_id, response_types: ["code", "token"] }, token);
    expect(status).toBe(400);
    expect(body.error).toBe("invalid_client_metadata");
    expect(body.issues).toEqual([{ path: "/response_types/1", message: expect.stringContaining("implicit grant") }]);
    const read = await send(path, "GET", undefined, token);
    expect(read.status).toBe(200);
    expect(read.body.response_types).toEqual(["code"]);
  });

  it("registerClient and updateRegistration refuse them as library calls too (ValidationError)", async () => {
    const { registry } = setup();
    const refused = await registry.registerClient("acct", createBody({ response_types: ["code", "token"] })).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).issues).toEqual([{ path: "/response_types/1", message: expect.stringContaining("implicit grant") }]);
    const { client, registration_access_token } = await registry.registerClient("acct", createBody());
    const update = registry.updateRegistration(client.client_id, registration_access_token!, createBody({ response_types: ["id_token"] }));
    await expect(update).rejects.toMatchObject({ issues: [{ path: "/response_types/0", message: expect.stringContaining("openid scope") }] });
  });

  it("the management API (create) still accepts token and id_token", async () => {
    const { registry } = setup();
    const created = await registry.create("acct", createBody({ response_types: ["code", "token", "id_token"] }));
    expect(created.response_types).toEqual(["code", "token", "id_token"]);
  });
});
