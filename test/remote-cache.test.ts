import { describe, expect, it } from "vitest";
import {
  createClientMetadataFetcher,
  createRemoteKeySetFetcher,
  RemoteFetchError,
  type FetchJsonOptions,
  type FetchJsonResult,
  type SafeFetcher,
} from "../src/remote/index.js";

// A network fetcher that answers from a table and records every call, and a
// clock the test moves by hand: no sockets, no sleeping.
interface Answer {
  value?: unknown;
  maxAgeSeconds?: number | null;
  noStore?: boolean;
  error?: RemoteFetchError;
}

function fakeNetwork(initial: Record<string, Answer | (() => Promise<FetchJsonResult>)> = {}) {
  const answers = new Map(Object.entries(initial));
  const calls: Array<{ url: string; options: FetchJsonOptions | undefined }> = [];
  const fetcher: SafeFetcher = {
    async fetchJson(url, options) {
      calls.push({ url, options });
      const answer = answers.get(url);
      if (answer === undefined) throw new RemoteFetchError("http_status", url, "not found", { status: 404 });
      if (typeof answer === "function") return answer();
      if (answer.error !== undefined) throw answer.error;
      return { value: answer.value, maxAgeSeconds: answer.maxAgeSeconds ?? null, noStore: answer.noStore ?? false, status: 200 };
    },
  };
  return { fetcher, calls, answers };
}

function clock() {
  let ms = 1_700_000_000_000;
  return { now: () => ms, advance: (seconds: number) => (ms += seconds * 1000) };
}

const URL_A = "https://app.example/a.json";
const URL_B = "https://app.example/b.json";
const URL_C = "https://app.example/c.json";
const doc = (url: string, extra: Record<string, unknown> = {}) => ({ client_id: url, redirect_uris: [`${url}/cb`], ...extra });

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
}

describe("createClientMetadataFetcher cache lifetime", () => {
  it.each([
    ["max-age inside the bounds", { maxAgeSeconds: 300 }, 300],
    ["max-age below the floor", { maxAgeSeconds: 5 }, 60],
    ["max-age 0", { maxAgeSeconds: 0 }, 60],
    ["no max-age", {}, 60],
    ["no-store", { maxAgeSeconds: 600, noStore: true }, 60],
    ["max-age above the ceiling", { maxAgeSeconds: 10_000_000 }, 86_400],
  ])("%s is kept %i seconds", async (_name, headers, ttl) => {
    const time = clock();
    const { fetcher, calls } = fakeNetwork({ [URL_A]: { value: doc(URL_A), ...headers } });
    const fetchMetadata = createClientMetadataFetcher({ fetcher, now: time.now });
    expect(await fetchMetadata(URL_A)).toEqual(doc(URL_A));
    time.advance(ttl - 1);
    await fetchMetadata(URL_A);
    expect(calls).toHaveLength(1);
    time.advance(1);
    await fetchMetadata(URL_A);
    expect(calls).toHaveLength(2);
  });

  it("uses the configured bounds", async () => {
    const time = clock();
    const { fetcher, calls } = fakeNetwork({ [URL_A]: { value: doc(URL_A), maxAgeSeconds: 50 }, [URL_B]: { value: doc(URL_B), maxAgeSeconds: 5000 } });
    const fetchMetadata = createClientMetadataFetcher({
      fetcher,
      now: time.now,
      cache: { minTtlSeconds: 100, maxTtlSeconds: 1000 },
    });
    await fetchMetadata(URL_A);
    await fetchMetadata(URL_B);
    time.advance(99);
    await fetchMetadata(URL_A);
    expect(calls).toHaveLength(2);
    time.advance(1);
    await fetchMetadata(URL_A);
    expect(calls).toHaveLength(3);
    time.advance(899);
    await fetchMetadata(URL_B);
    expect(calls).toHaveLength(3);
    time.advance(1);
    await fetchMetadata(URL_B);
    expect(calls).toHaveLength(4);
  });

  it("asks the network fetcher for JSON with the 5 KiB document cap", async () => {
    const { fetcher, calls } = fakeNetwork({ [URL_A]: { value: doc(URL_A) } });
    await createClientMetadataFetcher({ fetcher })(URL_A);
    expect(calls).toEqual([{ url: URL_A, options: { maxBytes: 5120, accept: "application/json" } }]);
  });

  it("gives every caller its own copy of a cached document", async () => {
    const { fetcher } = fakeNetwork({ [URL_A]: { value: doc(URL_A), maxAgeSeconds: 300 } });
    const fetchMetadata = createClientMetadataFetcher({ fetcher });
    const first = await fetchMetadata(URL_A);
    first.client_id = "https://evil.example/x";
    (first.redirect_uris as string[]).push("https://evil.example/cb");
    const second = await fetchMetadata(URL_A);
    expect(second).toEqual(doc(URL_A));
    (second.redirect_uris as string[]).push("https://evil.example/cb");
    expect(await fetchMetadata(URL_A)).toEqual(doc(URL_A));
  });
});

describe("createClientMetadataFetcher failures", () => {
  it("remembers a failure for negativeTtlSeconds and rethrows the same error", async () => {
    const time = clock();
    const failure = new RemoteFetchError("timeout", URL_A, "slow");
    const { fetcher, calls, answers } = fakeNetwork({ [URL_A]: { error: failure } });
    const fetchMetadata = createClientMetadataFetcher({ fetcher, now: time.now, cache: { negativeTtlSeconds: 30 } });
    expect(await caught(fetchMetadata(URL_A))).toBe(failure);
    answers.set(URL_A, { value: doc(URL_A) });
    time.advance(29);
    expect(await caught(fetchMetadata(URL_A))).toBe(failure);
    expect(calls).toHaveLength(1);
    time.advance(1);
    expect(await fetchMetadata(URL_A)).toEqual(doc(URL_A));
    expect(calls).toHaveLength(2);
  });

  it.each([
    ["an array", [doc(URL_A)]],
    ["a string", "hello"],
    ["null", null],
    ["a document naming another client id", doc(URL_B)],
    ["a document without client_id", { redirect_uris: ["https://app.example/cb"] }],
  ])("refuses %s as invalid_document, negatively cached", async (_name, value) => {
    const { fetcher, calls } = fakeNetwork({ [URL_A]: { value } });
    const fetchMetadata = createClientMetadataFetcher({ fetcher });
    expect(await caught(fetchMetadata(URL_A))).toMatchObject({ reason: "invalid_document", url: URL_A });
    expect(await caught(fetchMetadata(URL_A))).toMatchObject({ reason: "invalid_document" });
    expect(calls).toHaveLength(1);
  });

  it.each([
    ["https://App.Example/a.json", "an upper-case host"],
    ["https://app.example:443/a.json", "the default port"],
    ["https://app.example/x/../a.json", "a dot segment"],
    ["https://app.example/x/%2e%2e/a.json", "an encoded dot segment"],
    ["https://app.example", "no path"],
    ["https://app.example/", "an empty path"],
    ["https://2130706433/a.json", "a numeric host"],
    ["http://app.example/a.json", "http"],
    ["https://app.example/a.json#x", "a fragment"],
    ["https://user@app.example/a.json", "userinfo"],
  ])("refuses %s (%s) as invalid_url without fetching", async (url) => {
    const { fetcher, calls } = fakeNetwork();
    expect(await caught(createClientMetadataFetcher({ fetcher })(url))).toMatchObject({ reason: "invalid_url", url });
    expect(calls).toHaveLength(0);
  });

  it("lets allowUrl refuse a URL before any fetch, and remembers the refusal", async () => {
    const time = clock();
    const asked: string[] = [];
    const { fetcher, calls } = fakeNetwork({ [URL_A]: { value: doc(URL_A) }, [URL_B]: { value: doc(URL_B) } });
    const fetchMetadata = createClientMetadataFetcher({
      fetcher,
      now: time.now,
      allowUrl: async (url) => {
        asked.push(url.href);
        return url.pathname !== "/a.json";
      },
    });
    expect(await caught(fetchMetadata(URL_A))).toMatchObject({ reason: "denied" });
    expect(await caught(fetchMetadata(URL_A))).toMatchObject({ reason: "denied" });
    expect(await fetchMetadata(URL_B)).toEqual(doc(URL_B));
    expect(calls.map((c) => c.url)).toEqual([URL_B]);
    expect(asked).toEqual([URL_A, URL_B]);
  });

  it("lets allowDocument refuse a fetched document", async () => {
    const { fetcher, calls } = fakeNetwork({
      [URL_A]: { value: doc(URL_A, { redirect_uris: ["https://elsewhere.example/cb"] }) },
      [URL_B]: { value: doc(URL_B) },
    });
    const fetchMetadata = createClientMetadataFetcher({
      fetcher,
      allowDocument: (url, document) =>
        (document.redirect_uris as string[]).every((uri) => new URL(uri).hostname === url.hostname),
    });
    expect(await caught(fetchMetadata(URL_A))).toMatchObject({ reason: "denied", url: URL_A });
    expect(await fetchMetadata(URL_B)).toEqual(doc(URL_B));
    expect(calls).toHaveLength(2);
  });

  it("does not remember a hook that throws", async () => {
    let failing = true;
    const { fetcher } = fakeNetwork({ [URL_A]: { value: doc(URL_A) } });
    const fetchMetadata = createClientMetadataFetcher({
      fetcher,
      allowUrl: () => {
        if (failing) throw new Error("policy store unavailable");
        return true;
      },
    });
    await expect(fetchMetadata(URL_A)).rejects.toThrow("policy store unavailable");
    failing = false;
    expect(await fetchMetadata(URL_A)).toEqual(doc(URL_A));
  });
});

describe("createClientMetadataFetcher concurrency and size", () => {
  it("shares one fetch between concurrent requests for one URL", async () => {
    const gate = deferred<FetchJsonResult>();
    const { fetcher, calls } = fakeNetwork({ [URL_A]: () => gate.promise });
    const fetchMetadata = createClientMetadataFetcher({ fetcher });
    const waiting = [fetchMetadata(URL_A), fetchMetadata(URL_A), fetchMetadata(URL_A)];
    gate.resolve({ value: doc(URL_A), maxAgeSeconds: 300, noStore: false, status: 200 });
    const results = await Promise.all(waiting);
    expect(calls).toHaveLength(1);
    expect(results).toEqual([doc(URL_A), doc(URL_A), doc(URL_A)]);
    expect(results[0]).not.toBe(results[1]);
  });

  it("shares one failure between concurrent requests", async () => {
    const gate = deferred<FetchJsonResult>();
    const { fetcher, calls } = fakeNetwork({ [URL_A]: () => gate.promise });
    const fetchMetadata = createClientMetadataFetcher({ fetcher });
    const waiting = [caught(fetchMetadata(URL_A)), caught(fetchMetadata(URL_A))];
    const failure = new RemoteFetchError("connection", URL_A, "reset");
    gate.reject(failure);
    expect(await Promise.all(waiting)).toEqual([failure, failure]);
    expect(calls).toHaveLength(1);
  });

  it("refuses a new URL as busy while maxConcurrentFetches are in flight, without remembering it", async () => {
    const gate = deferred<FetchJsonResult>();
    const { fetcher, calls } = fakeNetwork({ [URL_A]: () => gate.promise, [URL_B]: { value: doc(URL_B) } });
    const fetchMetadata = createClientMetadataFetcher({ fetcher, maxConcurrentFetches: 1 });
    const first = fetchMetadata(URL_A);
    expect(await caught(fetchMetadata(URL_B))).toMatchObject({ reason: "busy" });
    gate.resolve({ value: doc(URL_A), maxAgeSeconds: null, noStore: false, status: 200 });
    await first;
    expect(await fetchMetadata(URL_B)).toEqual(doc(URL_B));
    expect(calls.map((c) => c.url)).toEqual([URL_A, URL_B]);
  });

  it("keeps at most maxEntries URLs, dropping the least recently used", async () => {
    const { fetcher, calls } = fakeNetwork({
      [URL_A]: { value: doc(URL_A), maxAgeSeconds: 3600 },
      [URL_B]: { value: doc(URL_B), maxAgeSeconds: 3600 },
      [URL_C]: { value: doc(URL_C), maxAgeSeconds: 3600 },
    });
    const fetchMetadata = createClientMetadataFetcher({ fetcher, cache: { maxEntries: 2 } });
    await fetchMetadata(URL_A);
    await fetchMetadata(URL_B);
    await fetchMetadata(URL_A); // A is now the most recently used
    await fetchMetadata(URL_C); // evicts B
    expect(calls.map((c) => c.url)).toEqual([URL_A, URL_B, URL_C]);
    await fetchMetadata(URL_A);
    await fetchMetadata(URL_C);
    expect(calls).toHaveLength(3);
    await fetchMetadata(URL_B);
    expect(calls.map((c) => c.url)).toEqual([URL_A, URL_B, URL_C, URL_B]);
  });

  it("refuses inconsistent cache bounds", () => {
    expect(() => createClientMetadataFetcher({ cache: { minTtlSeconds: 600, maxTtlSeconds: 60 } })).toThrow(TypeError);
    expect(() => createClientMetadataFetcher({ cache: { maxEntries: 0 } })).toThrow(TypeError);
    expect(() => createClientMetadataFetcher({ cache: { negativeTtlSeconds: -1 } })).toThrow(TypeError);
  });
});

const JWKS = "https://app.example/jwks.json";
const EC_KEY = {
  kty: "EC",
  crv: "P-256",
  kid: "k1",
  x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
  y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
};

describe("createRemoteKeySetFetcher", () => {
  it("fetches a public key set with the 16 KiB cap and caches it", async () => {
    const time = clock();
    const { fetcher, calls } = fakeNetwork({ [JWKS]: { value: { keys: [EC_KEY] }, maxAgeSeconds: 600 } });
    const keySets = createRemoteKeySetFetcher({ fetcher, now: time.now });
    expect(await keySets(JWKS)).toEqual({ keys: [EC_KEY] });
    time.advance(599);
    expect(await keySets(JWKS)).toEqual({ keys: [EC_KEY] });
    expect(calls).toEqual([{ url: JWKS, options: { maxBytes: 16_384, accept: "application/jwk-set+json, application/json" } }]);
  });

  it.each([
    ["an array", [EC_KEY]],
    ["an object without keys", { key: EC_KEY }],
    ["keys that is not an array", { keys: EC_KEY }],
    ["a key that is not an object", { keys: ["abc"] }],
    ["a key without kty", { keys: [{ kid: "x" }] }],
    ["a symmetric key", { keys: [{ kty: "oct", k: "c2VjcmV0" }] }],
    ["a private EC key", { keys: [{ ...EC_KEY, d: "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI" }] }],
    ["a private RSA member", { keys: [{ kty: "RSA", n: "AQAB", e: "AQAB", p: "AQAB" }] }],
  ])("refuses %s as invalid_document", async (_name, value) => {
    const { fetcher } = fakeNetwork({ [JWKS]: { value } });
    expect(await caught(createRemoteKeySetFetcher({ fetcher })(JWKS))).toMatchObject({ reason: "invalid_document", url: JWKS });
  });

  it("refetches on refresh at most once per minTtlSeconds", async () => {
    const time = clock();
    const rotated = { ...EC_KEY, kid: "k2" };
    const { fetcher, calls, answers } = fakeNetwork({ [JWKS]: { value: { keys: [EC_KEY] }, maxAgeSeconds: 3600 } });
    const keySets = createRemoteKeySetFetcher({ fetcher, now: time.now, cache: { minTtlSeconds: 60 } });
    await keySets(JWKS);
    answers.set(JWKS, { value: { keys: [rotated] }, maxAgeSeconds: 3600 });
    time.advance(59);
    expect(await keySets.refresh(JWKS)).toEqual({ keys: [EC_KEY] });
    expect(calls).toHaveLength(1);
    time.advance(1);
    expect(await keySets.refresh(JWKS)).toEqual({ keys: [rotated] });
    expect(await keySets.refresh(JWKS)).toEqual({ keys: [rotated] });
    expect(await keySets(JWKS)).toEqual({ keys: [rotated] });
    expect(calls).toHaveLength(2);
  });

  it("rate-limits refresh of a failed key set too", async () => {
    const time = clock();
    const failure = new RemoteFetchError("http_status", JWKS, "503", { status: 503 });
    const { fetcher, calls, answers } = fakeNetwork({ [JWKS]: { error: failure } });
    const keySets = createRemoteKeySetFetcher({ fetcher, now: time.now, cache: { negativeTtlSeconds: 120 } });
    expect(await caught(keySets(JWKS))).toBe(failure);
    answers.set(JWKS, { value: { keys: [EC_KEY] } });
    time.advance(30);
    expect(await caught(keySets.refresh(JWKS))).toBe(failure);
    time.advance(30);
    expect(await keySets.refresh(JWKS)).toEqual({ keys: [EC_KEY] });
    expect(calls).toHaveLength(2);
  });

  it("caches by the normalized URL and refuses invalid ones without fetching", async () => {
    const { fetcher, calls } = fakeNetwork({ [JWKS]: { value: { keys: [EC_KEY] } } });
    const keySets = createRemoteKeySetFetcher({ fetcher, allowUrl: (url) => url.hostname === "app.example" });
    await keySets(JWKS);
    await keySets("https://APP.example:443/jwks.json");
    expect(calls).toHaveLength(1);
    expect(await caught(keySets("http://app.example/jwks.json"))).toMatchObject({ reason: "invalid_url" });
    expect(await caught(keySets.refresh("https://user:pw@app.example/jwks.json"))).toMatchObject({ reason: "invalid_url" });
    expect(await caught(keySets("https://other.example/jwks.json"))).toMatchObject({ reason: "denied" });
    expect(calls).toHaveLength(1);
  });
});
