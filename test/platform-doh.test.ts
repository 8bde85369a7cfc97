import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOAuthClientRegistry } from "../src/index.js";
import { createMemoryStore } from "../adapters/memory.js";
import { createDohResolveTxt, decodeTxtAnswer, DohLookupError, encodeTxtQuery } from "../src/platform/doh.js";

// A fake DNS-over-HTTPS resolver on loopback: it decodes the RFC 8484 GET
// query, and answers from a zone table in DNS wire format (with a name
// compression pointer, as real resolvers send).
const zone = new Map<string, string[][]>();
const seen: Array<{ accept: string | undefined; name: string; type: number }> = [];

function parseQuestion(query: Uint8Array): { name: string; type: number } {
  const labels: string[] = [];
  let at = 12;
  while (query[at] !== 0) {
    const length = query[at]!;
    labels.push(new TextDecoder().decode(query.subarray(at + 1, at + 1 + length)));
    at += 1 + length;
  }
  return { name: labels.join("."), type: (query[at + 1]! << 8) | query[at + 2]! };
}

function answer(query: Uint8Array, records: string[][] | undefined, rcode = 0): Uint8Array {
  const questionEnd = query.indexOf(0, 12) + 5;
  const header = [query[0]!, query[1]!, 0x81, 0x80 | rcode, 0, 1, 0, records?.length ?? 0, 0, 0, 0, 0];
  const bytes = [...header, ...query.subarray(12, questionEnd)];
  for (const chunks of records ?? []) {
    const data = chunks.flatMap((chunk) => {
      const encoded = [...new TextEncoder().encode(chunk)];
      return [encoded.length, ...encoded];
    });
    // 0xc00c: the name of the question (offset 12).
    bytes.push(0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0, 60, data.length >> 8, data.length & 0xff, ...data);
  }
  return Uint8Array.from(bytes);
}

let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const dns = new URL(request.url ?? "/", "http://x").searchParams.get("dns");
    if (request.url?.startsWith("/broken")) {
      response.writeHead(502).end();
      return;
    }
    const query = Uint8Array.from(Buffer.from(dns ?? "", "base64url"));
    const question = parseQuestion(query);
    seen.push({ accept: request.headers.accept, ...question });
    const records = zone.get(question.name);
    response.writeHead(200, { "content-type": "application/dns-message" });
    response.end(answer(query, records, records === undefined ? 3 : 0));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dns-query`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("TXT over DNS over HTTPS (the client_uri verification default outside Node)", () => {
  it("asks the configured resolver with an RFC 8484 GET and returns node:dns's shape", async () => {
    zone.set("app.example.com", [["v=spf1 -all"], ["oauth-client-verification=", "abc"]]);
    const resolveTxt = createDohResolveTxt({ url });
    expect(await resolveTxt("app.example.com")).toEqual([["v=spf1 -all"], ["oauth-client-verification=", "abc"]]);
    expect(seen.at(-1)).toEqual({ accept: "application/dns-message", name: "app.example.com", type: 16 });
  });

  it("answers ENOTFOUND for a name that does not exist, and an HTTP failure is an error too", async () => {
    await expect(createDohResolveTxt({ url })("missing.example.com")).rejects.toMatchObject({ code: "ENOTFOUND" });
    await expect(createDohResolveTxt({ url: url.replace("/dns-query", "/broken") })("app.example.com")).rejects.toBeInstanceOf(DohLookupError);
  });

  it("times out", async () => {
    const never = () => new Promise<Response>((_resolve, reject) => setTimeout(() => reject(new Error("aborted")), 200));
    await expect(createDohResolveTxt({ url, timeoutMs: 20, fetch: never })("app.example.com")).rejects.toMatchObject({ code: "ETIMEOUT" });
  });

  it("refuses malformed answers instead of reading past them", () => {
    const query = encodeTxtQuery("a.example");
    const good = answer(query, [["hello"]]);
    expect(decodeTxtAnswer(good)).toEqual([["hello"]]);
    for (const cut of [5, 20, good.length - 2]) {
      expect(() => decodeTxtAnswer(good.subarray(0, cut))).toThrow(DohLookupError);
    }
    expect(() => decodeTxtAnswer(answer(query, []))).toThrow(expect.objectContaining({ code: "ENODATA" }));
  });

  it("verifies a client_uri through the registry", async () => {
    const registry = createOAuthClientRegistry(createMemoryStore(), { resolveTxt: createDohResolveTxt({ url }) });
    const created = await registry.create("acct", {
      client_name: "DoH",
      grant_types: ["authorization_code"],
      response_types: ["code"],
      redirect_uris: ["https://doh.example.com/cb"],
      scopes: [],
      token_endpoint_auth_method: "client_secret_basic",
      client_uri: "https://doh.example.com/",
    });
    expect((await registry.verifyClientUri("acct", created.client_id)).client_uri_verification?.status).toBe("failed");
    zone.set("doh.example.com", [[created.client_uri_verification!.text]]);
    const verified = await registry.verifyClientUri("acct", created.client_id);
    expect(verified.client_uri_verification?.status).toBe("verified");
  });
});
