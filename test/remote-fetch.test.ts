import type { IncomingHttpHeaders } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { classifyAddress, isPublicAddress } from "../src/remote/addresses.js";
import { RemoteFetchError, type RemoteFetchReason } from "../src/remote/errors.js";
import { createSafeFetcher, parseRemoteUrl, type RemoteLookup, type SafeFetcherOptions } from "../src/platform/pinned-fetch.node.js";
import { createClientMetadataFetcher, createRemoteKeySetFetcher } from "../src/remote/cache.js";
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWK } from "jose";
import { hasOpenssl, selfSignedCertificate } from "./helpers/tls.js";

async function reasonOf(promise: Promise<unknown>): Promise<RemoteFetchReason> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RemoteFetchError) return error.reason;
    throw error;
  }
  throw new Error("expected the fetch to be refused");
}

describe("classifyAddress", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "metadata"],
    ["169.254.1.1", "link_local"],
    ["0.0.0.0", "unspecified"],
    ["100.64.0.1", "shared"],
    ["100.127.255.255", "shared"],
    ["192.0.2.1", "documentation"],
    ["198.51.100.7", "documentation"],
    ["203.0.113.9", "documentation"],
    ["198.18.0.1", "reserved"],
    ["224.0.0.1", "multicast"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "reserved"],
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["::", "unspecified"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:a9fe:a9fe", "metadata"],
    ["::127.0.0.1", "ipv4_compatible"],
    ["::8.8.8.8", "ipv4_compatible"],
    ["64:ff9b::7f00:1", "loopback"],
    ["64:ff9b::10.0.0.1", "private"],
    ["64:ff9b:1::1", "reserved"],
    ["2002:7f00:1::", "loopback"],
    ["2002:a9fe:a9fe::1", "metadata"],
    ["2002:c0a8:101::", "private"],
    ["fd00::1", "unique_local"],
    ["fc00::1", "unique_local"],
    ["fd00:ec2::254", "metadata"],
    ["fe80::1", "link_local"],
    ["FE80::1", "link_local"],
    ["fe80::1%eth0", "invalid"],
    ["fec0::1", "link_local"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "documentation"],
    ["3fff::1", "documentation"],
    ["2001::1", "reserved"],
    ["2001:10::1", "reserved"],
    ["100::1", "reserved"],
    ["1::1", "reserved"],
    ["example.com", "invalid"],
    ["127.1", "invalid"],
    ["", "invalid"],
  ])("%s is %s", (address, category) => {
    expect(classifyAddress(address)).toBe(category);
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "9.255.255.255",
    "11.0.0.0",
    "100.63.255.255",
    "100.128.0.0",
    "172.15.255.255",
    "172.32.0.1",
    "192.167.255.255",
    "169.253.255.255",
    "223.255.255.255",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "2001:200::1",
    "64:ff9b::8.8.8.8",
    "2002:808:808::1",
    "::ffff:8.8.8.8",
  ])("%s is public", (address) => {
    expect(classifyAddress(address)).toBeNull();
    expect(isPublicAddress(address)).toBe(true);
  });
});

describe("parseRemoteUrl", () => {
  it.each([
    "http://app.example/client.json",
    "ftp://app.example/client.json",
    "/client.json",
    "https://user:pass@app.example/client.json",
    "https://user@app.example/client.json",
    "https://@app.example/client.json",
    "https://app.example/client.json#frag",
    "https://app.example/client.json#",
    "https://app.example/client.json\n",
    " https://app.example/client.json",
    "https://app.ex\tample/client.json",
    `https://app.example/${"a".repeat(2100)}`,
  ])("refuses %j", (input) => {
    expect(() => parseRemoteUrl(input)).toThrow(expect.objectContaining({ reason: "invalid_url" }));
  });

  it("accepts an https URL with path, query and port", () => {
    const url = parseRemoteUrl("https://app.example:8443/client.json?v=1");
    expect([url.hostname, url.port, url.pathname, url.search]).toEqual(["app.example", "8443", "/client.json", "?v=1"]);
  });
});

// A real TLS server on 127.0.0.1 with a throwaway certificate for *.test
// names; the fetcher reaches it only through a test lookup and a test address
// policy that allows exactly 127.0.0.1.

interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
  servername: string | false | null | undefined;
}

describe.skipIf(!hasOpenssl)("createSafeFetcher against a local TLS server", () => {
  let cert: string;
  let server: Server;
  let port: number;
  let connections = 0;
  let seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const closedSockets: Socket[] = [];
  let signingKey: CryptoKey;
  let publicJwk: JWK;

  beforeAll(async () => {
    const tls = selfSignedCertificate(["metadata.test", "keys.test"]);
    cert = tls.cert;
    const pair = await generateKeyPair("ES256");
    signingKey = pair.privateKey;
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid: "client-key-1", alg: "ES256" };
    const json = { "content-type": "application/json" };
    server = createServer({ key: tls.key, cert }, (req, res) => {
      const path = req.url ?? "";
      seen.push({ path, headers: req.headers, servername: (req.socket as TLSSocket).servername });
      switch (path) {
        case "/doc":
          res.writeHead(200, { ...json, "cache-control": "public, max-age=300" });
          res.end(JSON.stringify({ client_id: "https://metadata.test/doc" }));
          return;
        case "/client.json":
          res.writeHead(200, { ...json, "cache-control": "max-age=120" });
          res.end(JSON.stringify({ client_id: `https://${req.headers.host}/client.json`, redirect_uris: ["https://metadata.test/cb"] }));
          return;
        case "/jwks.json":
          res.writeHead(200, { "content-type": "application/jwk-set+json" });
          res.end(JSON.stringify({ keys: [publicJwk] }));
          return;
        case "/vnd":
          res.writeHead(200, { "content-type": "application/jwk-set+json; charset=utf-8" });
          res.end('{"keys":[]}');
          return;
        case "/no-store":
          res.writeHead(200, { ...json, "cache-control": "no-store, max-age=600" });
          res.end("{}");
          return;
        case "/redirect":
          res.writeHead(302, { location: "https://metadata.test/doc" });
          res.end();
          return;
        case "/redirect-307":
          res.writeHead(307, { location: "http://169.254.169.254/latest/meta-data/" });
          res.end();
          return;
        case "/missing":
          res.writeHead(404, json);
          res.end("{}");
          return;
        case "/exact": {
          // Exactly 5120 bytes of JSON: the largest body the default cap allows.
          const body = JSON.stringify({ pad: "x".repeat(5120 - 10) });
          res.writeHead(200, json);
          res.end(body);
          return;
        }
        case "/big-length":
          res.writeHead(200, { ...json, "content-length": "6000" });
          res.end(JSON.stringify({ pad: "x".repeat(6000 - 10) }));
          return;
        case "/big-chunked":
          res.writeHead(200, json);
          res.write('{"pad":"');
          for (let i = 0; i < 8; i++) res.write("x".repeat(1024));
          res.end('"}');
          return;
        case "/lying-length":
          // Announces less than it sends; the streaming cap still stops it.
          res.writeHead(200, { ...json, "transfer-encoding": "chunked" });
          res.write("[");
          for (let i = 0; i < 8; i++) res.write(`${"1,".repeat(512)}`);
          res.end("1]");
          return;
        case "/text":
          res.writeHead(200, { "content-type": "text/html" });
          res.end("{}");
          return;
        case "/no-type":
          res.writeHead(200);
          res.end("{}");
          return;
        case "/json-looking":
          res.writeHead(200, { "content-type": "application/jsonx" });
          res.end("{}");
          return;
        case "/gzip":
          res.writeHead(200, { ...json, "content-encoding": "gzip" });
          res.end("{}");
          return;
        case "/invalid-json":
          res.writeHead(200, json);
          res.end("{'client_id': 1}");
          return;
        case "/invalid-utf8":
          res.writeHead(200, json);
          res.end(Buffer.from([0x22, 0xff, 0xfe, 0x22]));
          return;
        case "/slow-headers":
          return; // never answers
        case "/slow-body":
          res.writeHead(200, json);
          res.write('{"client_id":');
          return; // never ends
        case "/cut":
          res.writeHead(200, { ...json, "content-length": "100" });
          res.write('{"a":', () => res.socket?.destroy());
          return;
        default:
          res.writeHead(500);
          res.end();
      }
    });
    server.on("secureConnection", (socket: Socket) => {
      connections += 1;
      sockets.add(socket);
      socket.on("close", () => closedSockets.push(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    connections = 0;
    seen = [];
  });

  const localLookup: RemoteLookup = async (hostname) => {
    if (hostname === "metadata.test" || hostname === "keys.test" || hostname === "wrong.test") {
      return [{ address: "127.0.0.1", family: 4 }];
    }
    throw Object.assign(new Error(`no such host ${hostname}`), { code: "ENOTFOUND" });
  };
  const testFetcher = (extra: SafeFetcherOptions = {}) =>
    createSafeFetcher({
      ca: cert,
      lookup: localLookup,
      isAllowedAddress: (address) => address === "127.0.0.1",
      ...extra,
    });
  const at = (path: string, host = "metadata.test") => `https://${host}:${port}${path}`;

  it("fetches a JSON document over TLS, verified against the host name, with safe request headers", async () => {
    const result = await testFetcher().fetchJson(at("/doc"));
    expect(result).toEqual({
      value: { client_id: "https://metadata.test/doc" },
      maxAgeSeconds: 300,
      noStore: false,
      status: 200,
    });
    expect(seen).toHaveLength(1);
    const request = seen[0] as Seen;
    expect(request.servername).toBe("metadata.test");
    expect(request.headers.host).toBe(`metadata.test:${port}`);
    expect(request.headers.accept).toBe("application/json");
    expect(request.headers["user-agent"]).toBe("oauth-client-registry");
    expect(request.headers["accept-encoding"]).toBe("identity");
    expect(request.headers.cookie).toBeUndefined();
    expect(request.headers.authorization).toBeUndefined();
  });

  it("accepts +json media types and reports no-store", async () => {
    const fetcher = testFetcher();
    expect(await fetcher.fetchJson(at("/vnd"), { accept: "application/jwk-set+json" })).toMatchObject({
      value: { keys: [] },
      maxAgeSeconds: null,
      noStore: false,
    });
    expect(seen[0]?.headers.accept).toBe("application/jwk-set+json");
    expect(await fetcher.fetchJson(at("/no-store"))).toMatchObject({ maxAgeSeconds: 600, noStore: true });
  });

  it("refuses the local server under the default address policy, before connecting", async () => {
    const fetcher = createSafeFetcher({ ca: cert, lookup: localLookup });
    await expect(fetcher.fetchJson(at("/doc"))).rejects.toMatchObject({
      reason: "forbidden_address",
      message: expect.stringContaining("metadata.test resolves to 127.0.0.1, a loopback address"),
    });
    expect(await reasonOf(fetcher.fetchJson(`https://127.0.0.1:${port}/doc`))).toBe("forbidden_address");
    expect(connections).toBe(0);
  });

  it("connects to the address it checked even when DNS changes its answer (rebinding)", async () => {
    const answers: string[] = [];
    const rebinding: RemoteLookup = async () => {
      // First answer passes the policy; every later one would not.
      const address = answers.length === 0 ? "127.0.0.1" : "10.0.0.1";
      answers.push(address);
      return [{ address, family: 4 }];
    };
    const result = await testFetcher({ lookup: rebinding }).fetchJson(at("/doc"));
    expect(result.status).toBe(200);
    expect(answers).toEqual(["127.0.0.1"]);
    // metadata.test exists in no real DNS: reaching the server proves the socket used the pinned address.
    expect(connections).toBe(1);
  });

  it("falls back to the next checked address when the first does not answer", async () => {
    // Nothing listens on 127.0.0.2 at the test port.
    const twoAnswers: RemoteLookup = async () => [
      { address: "127.0.0.2", family: 4 },
      { address: "127.0.0.1", family: 4 },
    ];
    const allowBoth = (address: string) => address === "127.0.0.1" || address === "127.0.0.2";
    expect((await testFetcher({ lookup: twoAnswers, isAllowedAddress: allowBoth }).fetchJson(at("/doc"))).status).toBe(200);
    // With only the first address allowed the name is refused as a whole, whichever address would have answered.
    expect(await reasonOf(testFetcher({ lookup: twoAnswers, isAllowedAddress: (a) => a === "127.0.0.2" }).fetchJson(at("/doc")))).toBe(
      "forbidden_address",
    );
    expect(connections).toBe(1);
  });

  it("refuses a certificate that does not name the host, and an untrusted certificate", async () => {
    expect(await reasonOf(testFetcher().fetchJson(at("/doc", "wrong.test")))).toBe("tls");
    expect(await reasonOf(testFetcher({ ca: undefined }).fetchJson(at("/doc")))).toBe("tls");
    expect(seen).toHaveLength(0);
  });

  it.each([
    ["/redirect", "redirect", 302],
    ["/redirect-307", "redirect", 307],
    ["/missing", "http_status", 404],
    ["/unknown", "http_status", 500],
    ["/text", "content_type", 200],
    ["/no-type", "content_type", 200],
    ["/json-looking", "content_type", 200],
    ["/gzip", "content_encoding", 200],
    ["/invalid-json", "not_json", 200],
    ["/invalid-utf8", "not_json", 200],
    ["/big-length", "too_large", 200],
    ["/big-chunked", "too_large", 200],
    ["/lying-length", "too_large", 200],
    ["/cut", "connection", 200],
  ])("%s is refused with %s", async (path, reason, status) => {
    const error = await testFetcher().fetchJson(at(path)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteFetchError);
    expect(error).toMatchObject({ reason, status, url: at(path) });
    // Only one request: nothing was followed.
    expect(seen.map((s) => s.path)).toEqual([path]);
  });

  it("allows a body of exactly maxBytes and honours a per-call cap", async () => {
    const fetcher = testFetcher();
    const result = await fetcher.fetchJson(at("/exact"));
    expect(JSON.stringify(result.value)).toHaveLength(5120);
    expect(await reasonOf(fetcher.fetchJson(at("/exact"), { maxBytes: 5119 }))).toBe("too_large");
    expect((await fetcher.fetchJson(at("/big-chunked"), { maxBytes: 16 * 1024 })).status).toBe(200);
  });

  it("serves a Client ID Metadata Document through the cache: one request for repeated lookups", async () => {
    const fetchMetadata = createClientMetadataFetcher({ fetcher: testFetcher() });
    const url = at("/client.json");
    expect(await fetchMetadata(url)).toEqual({ client_id: url, redirect_uris: ["https://metadata.test/cb"] });
    expect(await fetchMetadata(url)).toEqual({ client_id: url, redirect_uris: ["https://metadata.test/cb"] });
    expect(seen.map((s) => s.path)).toEqual(["/client.json"]);
  });

  it("serves a remote key set that jose verifies a client assertion with", async () => {
    const keySets = createRemoteKeySetFetcher({ fetcher: testFetcher() });
    const keySet = await keySets(at("/jwks.json", "keys.test"));
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: "ES256", kid: "client-key-1" })
      .setIssuer("client-1")
      .setSubject("client-1")
      .setAudience("https://as.example/token")
      .setExpirationTime("1m")
      .sign(signingKey);
    const { payload } = await jwtVerify(assertion, createLocalJWKSet(keySet), { audience: "https://as.example/token" });
    expect(payload.sub).toBe("client-1");
    expect(seen[0]?.headers.accept).toBe("application/jwk-set+json, application/json");
  });

  it.each(["/slow-headers", "/slow-body"])("times out on %s and closes the socket", async (path) => {
    const closedBefore = closedSockets.length;
    const error = await testFetcher({ timeoutMs: 300 }).fetchJson(at(path)).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: "timeout" });
    await expect.poll(() => closedSockets.length).toBeGreaterThan(closedBefore);
  });

  it("fails cleanly when the request cannot be built", async () => {
    expect(await reasonOf(testFetcher({ userAgent: "bad\nagent" }).fetchJson(at("/doc")))).toBe("connection");
    expect(connections).toBe(0);
  });

  it("counts DNS in the timeout", async () => {
    const hanging: RemoteLookup = () => new Promise(() => {});
    expect(await reasonOf(testFetcher({ lookup: hanging, timeoutMs: 100 }).fetchJson(at("/doc")))).toBe("timeout");
    expect(connections).toBe(0);
  });
});

describe("createSafeFetcher refusals that never reach the network", () => {
  // Every lookup is recorded; any address that got through would be refused
  // by nothing in these tests, so reaching the network would fail them.
  function recordingFetcher(answers: Record<string, readonly string[]>) {
    const lookups: string[] = [];
    const lookup: RemoteLookup = async (hostname) => {
      lookups.push(hostname);
      const found = answers[hostname];
      if (found === undefined) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
      return found.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
    };
    return { fetcher: createSafeFetcher({ lookup, timeoutMs: 1000 }), lookups };
  }

  it.each([
    "https://127.0.0.1/doc",
    "https://10.0.0.1/doc",
    "https://172.16.0.1/doc",
    "https://192.168.1.1/doc",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/doc",
    "https://[::ffff:127.0.0.1]/doc",
    "https://[::ffff:7f00:1]/doc",
    "https://[fd00::1]/doc",
    "https://[fe80::1]/doc",
    "https://0.0.0.0/doc",
    "https://100.64.0.1/doc",
    "https://[fd00:ec2::254]/doc",
    "https://[64:ff9b::a9fe:a9fe]/doc",
    "https://[2002:a00:1::]/doc",
  ])("refuses the literal address in %s without a lookup", async (url) => {
    const { fetcher, lookups } = recordingFetcher({});
    expect(await reasonOf(fetcher.fetchJson(url))).toBe("forbidden_address");
    expect(lookups).toEqual([]);
  });

  it.each([
    ["https://2130706433/doc", "127.0.0.1"],
    ["https://0x7f000001/doc", "127.0.0.1"],
    ["https://0177.0.0.1/doc", "127.0.0.1"],
    ["https://127.1/doc", "127.0.0.1"],
    ["https://0xa.0.0.1/doc", "10.0.0.1"],
    ["https://012.0.0.1/doc", "10.0.0.1"],
    ["https://3232235777/doc", "192.168.1.1"],
    ["https://0xA9FEA9FE/doc", "169.254.169.254"],
  ])("normalizes %s to %s and refuses it", async (url, address) => {
    // The WHATWG URL parser turns decimal, octal and hex IPv4 spellings into dotted quads.
    expect(new URL(url).hostname).toBe(address);
    const { fetcher, lookups } = recordingFetcher({});
    expect(await reasonOf(fetcher.fetchJson(url))).toBe("forbidden_address");
    expect(lookups).toEqual([]);
  });

  it.each([
    [["127.0.0.1"]],
    [["10.0.0.1"]],
    [["172.16.0.1"]],
    [["192.168.1.1"]],
    [["169.254.169.254"]],
    [["::1"]],
    [["::ffff:127.0.0.1"]],
    [["fd00::1"]],
    [["fe80::1"]],
    [["0.0.0.0"]],
    [["100.64.0.1"]],
    [["93.184.215.14", "10.0.0.1"]],
    [["2606:2800:21f:cb07:6820:80da:af6b:8b2c", "::ffff:169.254.169.254"]],
  ])("refuses a name resolving to %j", async (addresses) => {
    const { fetcher, lookups } = recordingFetcher({ "app.example": addresses });
    const error = await fetcher.fetchJson("https://app.example/client.json").catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: "forbidden_address", url: "https://app.example/client.json" });
    expect(lookups).toEqual(["app.example"]);
  });

  it("reports a name that does not resolve, or resolves to nothing", async () => {
    const { fetcher } = recordingFetcher({ "empty.example": [] });
    expect(await reasonOf(fetcher.fetchJson("https://missing.example/doc"))).toBe("dns_failure");
    expect(await reasonOf(fetcher.fetchJson("https://empty.example/doc"))).toBe("dns_failure");
  });

  it("refuses invalid URLs before any lookup", async () => {
    const { fetcher, lookups } = recordingFetcher({});
    for (const url of ["http://app.example/doc", "https://u:p@app.example/doc", "https://app.example/doc#x", "not a url"]) {
      expect(await reasonOf(fetcher.fetchJson(url))).toBe("invalid_url");
    }
    expect(lookups).toEqual([]);
  });

  it("refuses when the address policy throws", async () => {
    const fetcher = createSafeFetcher({
      lookup: async () => [{ address: "127.0.0.1", family: 4 }],
      isAllowedAddress: () => {
        throw new Error("policy store down");
      },
    });
    expect(await reasonOf(fetcher.fetchJson("https://app.example/doc"))).toBe("forbidden_address");
  });
});
