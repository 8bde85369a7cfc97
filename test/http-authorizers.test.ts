import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import { createOAuthClientRegistry } from "../src/index.js";
import { bearerTokenAuthorize, createFetchHandler, HTTP_ERROR_CODES, UnauthorizedError } from "../src/http/index.js";
import { envelopeOf } from "./helpers/http.js";

const context = { accountId: "acct", permission: "account.oauth-client.delete" } as const;
const withAuthorization = (value?: string) =>
  new Request("http://localhost/client/v4/oauth/scopes", value === undefined ? {} : { headers: { authorization: value } });

describe("bearerTokenAuthorize: one shared token allows everything, anything else is a 401", () => {
  const authorize = bearerTokenAuthorize("s3cret-token");

  it.each(["Bearer s3cret-token", "bearer s3cret-token", "Bearer   s3cret-token  "])("%j is allowed", async (header) => {
    await expect(authorize(withAuthorization(header), context)).resolves.toBe(true);
  });

  it.each([
    ["no header", undefined],
    ["another token", "Bearer s3cret-tokeN"],
    ["a prefix of the token", "Bearer s3cret"],
    ["the token without the scheme", "s3cret-token"],
    ["another scheme", "Basic s3cret-token"],
    ["two tokens", "Bearer s3cret-token s3cret-token"],
  ])("%s is refused with UnauthorizedError", async (_name, header) => {
    await expect(authorize(withAuthorization(header), context)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it("an empty token is refused when the authorizer is made, so it cannot be configured by mistake", () => {
    expect(() => bearerTokenAuthorize("")).toThrow(TypeError);
  });

  it("through the handler: 401 with the unauthorized code, 200 with the token", async () => {
    const handler = createFetchHandler(createOAuthClientRegistry(createMemoryStore()), { authorize: authorize });
    const refused = await handler(withAuthorization("Bearer wrong"));
    expect(refused.status).toBe(401);
    expect((await envelopeOf(refused)).errors[0]!.code).toBe(HTTP_ERROR_CODES.unauthorized.code);
    expect((await handler(withAuthorization("Bearer s3cret-token"))).status).toBe(200);
  });
});
