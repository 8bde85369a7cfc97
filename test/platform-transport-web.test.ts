import { describe, expect, it } from "vitest";
import { createFetchTransport, DEFAULT_TRANSPORT } from "../src/platform/transport.web.js";
import { DEFAULT_TRANSPORT as NODE_TRANSPORT } from "#platform/transport";
import type { RemoteFetchReason } from "../src/platform/errors.js";

// The fetch transport (the default where the "node" condition does not
// apply) holds the bounds of the pinned-socket fetcher; the network here is
// an injected fetch that records what it was asked.
function fakeFetch(respond: (url: URL, init: RequestInit) => Response | Promise<Response>) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const fetch = async (input: Request | string | URL, init?: RequestInit) => {
    calls.push({ url: String(input), init: init ?? {} });
    return respond(new URL(String(input)), init ?? {});
  };
  return { fetch, calls };
}

const json = (body: string, headers: Record<string, string> = {}, status = 200) =>
  new Response(body, { status, headers: { "content-type": "application/json", ...headers } });

async function reason(promise: Promise<unknown>): Promise<RemoteFetchReason | "resolved"> {
  try {
    await promise;
    return "resolved";
  } catch (error) {
    return (error as { reason: RemoteFetchReason }).reason;
  }
}

describe("the fetch transport", () => {
  it("is the default outside Node; Node keeps the pinned sockets", () => {
    expect(DEFAULT_TRANSPORT).toBe("fetch");
    expect(NODE_TRANSPORT).toBe("pinned-sockets");
  });

  it("fetches JSON without following redirects, and reads Cache-Control", async () => {
    const { fetch, calls } = fakeFetch(() => json('{"a":1}', { "cache-control": "max-age=300, max-age=60" }));
    const result = await createFetchTransport({ fetch }).fetchJson("https://app.example/doc.json", { accept: "application/jwk-set+json" });
    expect(result).toEqual({ value: { a: 1 }, maxAgeSeconds: 60, noStore: false, status: 200 });
    expect(calls[0]!.init.redirect).toBe("manual");
    expect(new Headers(calls[0]!.init.headers).get("accept")).toBe("application/jwk-set+json");
  });

  it.each([
    ["http://app.example/doc.json", "invalid_url"],
    ["https://user@app.example/doc.json", "invalid_url"],
    ["https://app.example/doc.json#x", "invalid_url"],
    ["https://10.0.0.1/doc.json", "forbidden_address"],
    ["https://169.254.169.254/latest", "forbidden_address"],
    ["https://2130706433/doc.json", "forbidden_address"],
    ["https://0x7f.1/doc.json", "forbidden_address"],
    ["https://[::ffff:127.0.0.1]/doc.json", "forbidden_address"],
    ["https://[fd00::1]/doc.json", "forbidden_address"],
    ["https://localhost/doc.json", "forbidden_address"],
    ["https://api.localhost./doc.json", "forbidden_address"],
  ] as const)("refuses %s (%s) without a request", async (url, expected) => {
    const { fetch, calls } = fakeFetch(() => json("{}"));
    expect(await reason(createFetchTransport({ fetch }).fetchJson(url))).toBe(expected);
    expect(calls).toHaveLength(0);
  });

  it.each([
    ["a redirect", () => new Response(null, { status: 302, headers: { location: "https://10.0.0.1/" } }), "redirect"],
    ["a 404", () => json("{}", {}, 404), "http_status"],
    ["text/html", () => new Response("{}", { headers: { "content-type": "text/html" } }), "content_type"],
    ["gzip", () => json("{}", { "content-encoding": "gzip" }), "content_encoding"],
    ["an announced oversize body", () => json("{}", { "content-length": "999999" }), "too_large"],
    ["an oversize body without Content-Length", () => json(`"${"x".repeat(6000)}"`), "too_large"],
    ["invalid UTF-8", () => new Response(Uint8Array.of(0x22, 0xff, 0x22), { headers: { "content-type": "application/json" } }), "not_json"],
    ["not JSON", () => json("{nope"), "not_json"],
  ] as const)("refuses %s", async (_label, respond, expected) => {
    const { fetch } = fakeFetch(respond);
    expect(await reason(createFetchTransport({ fetch }).fetchJson("https://app.example/doc.json"))).toBe(expected);
  });

  it("times out on a body that never ends", async () => {
    const { fetch } = fakeFetch((_url, init) => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("{"));
          init.signal?.addEventListener("abort", () => controller.error(new Error("aborted")));
        },
      });
      return new Response(body, { headers: { "content-type": "application/json" } });
    });
    const started = Date.now();
    expect(await reason(createFetchTransport({ fetch, timeoutMs: 50 }).fetchJson("https://app.example/slow.json"))).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("a literal public address is fetched; the address policy can be narrowed", async () => {
    const { fetch, calls } = fakeFetch(() => json("[]"));
    expect(await reason(createFetchTransport({ fetch }).fetchJson("https://93.184.215.14/x.json"))).toBe("resolved");
    expect(await reason(createFetchTransport({ fetch, isAllowedAddress: () => false }).fetchJson("https://93.184.215.14/x.json"))).toBe(
      "forbidden_address",
    );
    expect(calls).toHaveLength(1);
  });
});
