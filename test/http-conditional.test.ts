/**
 * ETag and If-Match: responses carrying a client have an ETag from its
 * stored version; PATCH, DELETE and the rotate routes honor If-Match and
 * answer 412 (code 1304), changing nothing, when it names a stale version.
 * The library exposes the same through `expectedVersion` and `clientVersion`.
 */
import { describe, expect, it } from "vitest";
import { clientVersion, PreconditionFailedError } from "../src/index.js";
import { apiRequest, createHarness, envelopeOf, validCreateBody, ACCOUNT } from "./helpers/http.js";

async function created(harness = createHarness()) {
  const response = await harness.handler(apiRequest("POST", `/accounts/${ACCOUNT}/oauth_clients`, { json: validCreateBody() }));
  const body = (await envelopeOf(response)).result as { client_id: string; client_secret: string };
  return { harness, response, id: body.client_id, secret: body.client_secret, path: `/accounts/${ACCOUNT}/oauth_clients/${body.client_id}` };
}

describe("ETag", () => {
  it("comes with every response that carries one client, and changes on every write", async () => {
    const { harness, response, path } = await created();
    const onCreate = response.headers.get("etag");
    expect(onCreate).toBe('"v1"');
    const read = await harness.handler(apiRequest("GET", path));
    expect(read.headers.get("etag")).toBe(onCreate);
    const head = await harness.handler(apiRequest("HEAD", path));
    expect(head.headers.get("etag")).toBe(onCreate);
    const patched = await harness.handler(apiRequest("PATCH", path, { json: { client_name: "Renamed" } }));
    expect(patched.headers.get("etag")).toBe('"v2"');
    await harness.handler(apiRequest("POST", `${path}/rotate_secret`));
    expect((await harness.handler(apiRequest("GET", path))).headers.get("etag")).toBe('"v3"');
    // Lists and the catalog carry no single client, so no ETag.
    expect((await harness.handler(apiRequest("GET", `/accounts/${ACCOUNT}/oauth_clients`))).headers.get("etag")).toBeNull();
  });
});

describe("If-Match", () => {
  it("lets a write through when it names the current version, or *", async () => {
    const { harness, path } = await created();
    const ok = await harness.handler(apiRequest("PATCH", path, { json: { client_name: "A" }, headers: { "if-match": '"v1"' } }));
    expect(ok.status).toBe(200);
    const star = await harness.handler(apiRequest("PATCH", path, { json: { client_name: "B" }, headers: { "if-match": "*" } }));
    expect(star.status).toBe(200);
    const list = await harness.handler(apiRequest("PATCH", path, { json: { client_name: "C" }, headers: { "if-match": '"v1", "v3"' } }));
    expect(list.status).toBe(200);
    expect(list.headers.get("etag")).toBe('"v4"');
  });

  it.each([
    ["PATCH", "", { client_name: "Stale" }],
    ["DELETE", "", undefined],
    ["POST", "/rotate_secret", undefined],
  ] as const)("answers %s%s with a stale version 412, code 1304, and changes nothing", async (method, suffix, json) => {
    const { harness, path, id, secret } = await created();
    await harness.handler(apiRequest("PATCH", path, { json: { client_name: "Moved on" } }));
    const before = await harness.store.get(ACCOUNT, id);
    const stale = await harness.handler(apiRequest(method, `${path}${suffix}`, { ...(json ? { json } : {}), headers: { "if-match": '"v1"' } }));
    expect(stale.status).toBe(412);
    expect(await envelopeOf(stale)).toMatchObject({ success: false, errors: [{ code: 1304 }] });
    expect(await harness.store.get(ACCOUNT, id)).toEqual(before);
    expect(await harness.registry.authenticate(id, secret)).toMatchObject({ matched: "current" });
  });

  it("answers DELETE …/rotate_secret with a stale version 412 and keeps the rotated secret", async () => {
    const { harness, path, id, secret } = await created();
    await harness.handler(apiRequest("POST", `${path}/rotate_secret`));
    const stale = await harness.handler(apiRequest("DELETE", `${path}/rotate_secret`, { headers: { "if-match": '"v1"' } }));
    expect(stale.status).toBe(412);
    expect(await harness.registry.authenticate(id, secret)).toMatchObject({ matched: "rotated" });
    // That authentication recorded the first use of the rotated secret: a write, so version 3.
    const current = await harness.handler(apiRequest("DELETE", `${path}/rotate_secret`, { headers: { "if-match": '"v3"' } }));
    expect(current.status).toBe(200);
  });

  it("never matches a weak or foreign tag (strong comparison)", async () => {
    const { harness, path } = await created();
    for (const tag of ['W/"v1"', '"1"', "v1", '"v01"', '""']) {
      const response = await harness.handler(apiRequest("PATCH", path, { json: { client_name: "x" }, headers: { "if-match": tag } }));
      expect(response.status, tag).toBe(412);
    }
  });

  it("answers 404, not 412, for a client that does not exist", async () => {
    const { harness, path } = await created();
    await harness.handler(apiRequest("DELETE", path));
    const response = await harness.handler(apiRequest("DELETE", path, { headers: { "if-match": '"v1"' } }));
    expect(response.status).toBe(404);
  });
});

describe("expectedVersion in the library", () => {
  it("refuses a stale version with PreconditionFailedError and applies a current one", async () => {
    const { harness, id } = await created();
    const { registry } = harness;
    const read = await registry.get(ACCOUNT, id);
    expect(clientVersion(read)).toBe(1);
    const updated = await registry.update(ACCOUNT, id, { client_name: "One" }, { expectedVersion: clientVersion(read) });
    expect(clientVersion(updated)).toBe(2);
    await expect(registry.update(ACCOUNT, id, { client_name: "Two" }, { expectedVersion: 1 })).rejects.toBeInstanceOf(PreconditionFailedError);
    await expect(registry.delete(ACCOUNT, id, { expectedVersion: 1 })).rejects.toMatchObject({ code: "precondition_failed", status: 412 });
    expect((await registry.get(ACCOUNT, id)).client_name).toBe("One");
    expect(clientVersion({ ...read })).toBeUndefined();
    await expect(registry.delete(ACCOUNT, id, { expectedVersion: 2 })).resolves.toEqual({ id });
  });
});
