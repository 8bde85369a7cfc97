// Bounded key material (issue 20, item 2) and canonical assertions (item 6):
// one key rule for stored jwks (create, import, register, metadata
// documents), fetched jwks_uri sets and the sets assertions are verified
// with; the verifier tries few keys per assertion, and reads only one
// spelling of each assertion.
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet, type JWK } from "jose";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  ASSERTION_ALGORITHMS,
  AssertionError,
  MAX_KEYS_TRIED,
  MAX_KEY_SET_KEYS,
  MAX_RSA_MODULUS_BITS,
  MAX_RSA_PUBLIC_EXPONENT,
  MIN_RSA_MODULUS_BITS,
  createAssertionVerifier,
  createMemoryReplayCache,
  publicKeySet,
  type AssertionFailureReason,
  type KeySetSource,
} from "../src/assertions/index.js";
import { ClientMetadataError, ValidationError } from "../src/model/errors.js";
import { createRemoteKeySetFetcher, RemoteFetchError, type SafeFetcher } from "../src/remote/index.js";
import { JWK_SIGNATURE_ALGORITHMS, canonicalBase64UrlBytes, canonicalBase64UrlLength, publicKeySetProblem } from "../src/rules/jwks.js";
import { createBody, registryFixture } from "./helpers/registry.js";

const b64 = (bytes: Uint8Array | number[]) => Buffer.from(Uint8Array.from(bytes)).toString("base64url");

/** An odd number of exactly `bits` bits, as a JWK `n` (not a real modulus: the rules check its size only). */
function modulusOfBits(bits: number): string {
  const bytes = new Uint8Array(Math.ceil(bits / 8)).fill(0xa5);
  bytes[0] = 1 << ((bits - 1) % 8);
  bytes[bytes.length - 1]! |= 1;
  return b64(bytes);
}

const rsaOf = (bits: number, e = "AQAB") => ({ kty: "RSA", n: modulusOfBits(bits), e });

let ec: { privateKey: CryptoKey; jwk: JWK };
let ed: { privateKey: CryptoKey; jwk: JWK };
let rsa: { privateKey: CryptoKey; jwk: JWK };

async function keyPair(alg: string, kid?: string) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), ...(kid === undefined ? {} : { kid }) } };
}

beforeAll(async () => {
  [ec, ed, rsa] = await Promise.all([keyPair("ES256", "ec"), keyPair("EdDSA", "ed"), keyPair("RS256", "rsa")]);
});

describe("key rule: what a key set may hold", () => {
  const accepted: [string, () => Record<string, unknown>][] = [
    ["a real P-256 key", () => ec.jwk],
    ["a real Ed25519 key", () => ed.jwk],
    ["a real RSA-2048 key", () => rsa.jwk],
    [`an RSA modulus of ${MIN_RSA_MODULUS_BITS} bits`, () => rsaOf(MIN_RSA_MODULUS_BITS)],
    [`an RSA modulus of ${MAX_RSA_MODULUS_BITS} bits`, () => rsaOf(MAX_RSA_MODULUS_BITS)],
    ["the RSA exponent 3", () => rsaOf(2048, "Aw")],
    [`the RSA exponent ${MAX_RSA_PUBLIC_EXPONENT}`, () => rsaOf(2048, b64([1, 0, 1]))],
    ["an alg that fits the key", () => ({ ...ec.jwk, alg: "ES256" })],
    ["a key meant for encryption (no alg), which the verifier skips", () => ({ ...ec.jwk, use: "enc" })],
  ];
  it.each(accepted)("accepts %s", (_name, key) => {
    expect(publicKeySetProblem({ keys: [key()] })).toBeNull();
  });

  const refused: [string, () => Record<string, unknown>, RegExp][] = [
    [`an RSA modulus of ${MIN_RSA_MODULUS_BITS - 1} bits`, () => rsaOf(MIN_RSA_MODULUS_BITS - 1), /n is a 2047-bit RSA modulus; 2048 to 4096 bits/],
    ["an RSA modulus of 1024 bits", () => rsaOf(1024), /1024-bit RSA modulus/],
    [`an RSA modulus of ${MAX_RSA_MODULUS_BITS + 1} bits`, () => rsaOf(MAX_RSA_MODULUS_BITS + 1), /4097-bit RSA modulus/],
    ["an RSA modulus of 8192 bits", () => rsaOf(8192), /8192-bit RSA modulus/],
    ["an RSA modulus with a leading zero byte", () => ({ kty: "RSA", n: b64([0, ...Buffer.from(modulusOfBits(2048), "base64url")]), e: "AQAB" }), /zero byte/],
    ["an even RSA modulus", () => ({ kty: "RSA", n: b64([...Buffer.from(modulusOfBits(2048), "base64url").subarray(0, -1), 2]), e: "AQAB" }), /even/],
    ["the RSA exponent 1", () => rsaOf(2048, "AQ"), /e is 1; must be an odd number from 3 to 65537/],
    ["an even RSA exponent", () => rsaOf(2048, b64([1, 0, 0])), /e is 65536/],
    ["an RSA exponent above 65537", () => rsaOf(2048, b64([1, 0, 3])), /e is 65539/],
    ["an RSA exponent near 2^32", () => rsaOf(2048, b64([0xff, 0xff, 0xff, 0xff])), /e is 4294967295/],
    ["a ~3071-bit RSA exponent", () => rsaOf(3072, modulusOfBits(3071)), /e must be an odd number/],
    ["an RSA exponent with a leading zero byte", () => rsaOf(2048, b64([0, 1, 0, 1])), /e must be an odd number/],
    ["a padded RSA exponent", () => rsaOf(2048, "AQAB="), /e must be the public exponent in canonical base64url/],
    ["an RSA modulus with whitespace", () => ({ kty: "RSA", n: `${modulusOfBits(2048)}\n`, e: "AQAB" }), /n must be the modulus in canonical base64url/],
    ["an RSA modulus in base64 (not url)", () => ({ kty: "RSA", n: `+${modulusOfBits(2048).slice(1)}`, e: "AQAB" }), /canonical base64url/],
    ["an RSA key without n", () => ({ kty: "RSA", e: "AQAB" }), /n must be the modulus/],
    ["the curve secp256k1", () => ({ ...ec.jwk, crv: "secp256k1" }), /crv "secp256k1" is not accepted for EC keys; accepted: P-256, P-384, P-521/],
    ["a P-384 key with P-256 coordinates", () => ({ ...ec.jwk, crv: "P-384" }), /x must be the 48-byte P-384 coordinate/],
    ["a P-256 coordinate with non-zero trailing bits", () => ({ ...ec.jwk, x: `${(ec.jwk.x as string).slice(0, -1)}B` }), /x must be the 32-byte P-256/],
    ["an Ed448 key", () => ({ kty: "OKP", crv: "Ed448", x: b64(new Uint8Array(57)) }), /crv "Ed448" is not accepted for OKP keys; accepted: Ed25519/],
    ["an X25519 key", () => ({ kty: "OKP", crv: "X25519", x: b64(new Uint8Array(32)) }), /crv "X25519"/],
    ["an unknown kty", () => ({ kty: "AKP", alg: "ML-DSA-44", pub: "cHVi" }), /kty "AKP" is not accepted; accepted: RSA, EC, OKP/],
    ["an alg the verifier does not accept", () => ({ ...rsa.jwk, alg: "RSA-OAEP" }), /alg "RSA-OAEP" is not accepted/],
    ["alg none", () => ({ ...ec.jwk, alg: "none" }), /alg "none" is not accepted/],
    ["an alg of another key type", () => ({ ...rsa.jwk, alg: "ES256" }), /alg ES256 needs an EC key on P-256/],
    ["an alg of another curve", () => ({ ...ec.jwk, alg: "ES384" }), /alg ES384 needs an EC key on P-384/],
    ["a kid that is not a string", () => ({ ...ec.jwk, kid: 7 }), /kid must be a string/],
  ];
  it.each(refused)("refuses %s", (_name, key, message) => {
    expect(publicKeySetProblem({ keys: [key()] })).toMatch(message);
    expect(() => publicKeySet({ keys: [key()] })).toThrow(AssertionError);
  });

  it(`refuses more than ${MAX_KEY_SET_KEYS} keys, and two keys of one type under one kid`, () => {
    expect(MAX_KEY_SET_KEYS).toBe(10);
    const keys = Array.from({ length: MAX_KEY_SET_KEYS + 1 }, (_, i) => ({ ...ec.jwk, kid: `k${i}` }));
    expect(publicKeySetProblem({ keys })).toBe("holds 11 keys; at most 10 are accepted");
    expect(publicKeySetProblem({ keys: keys.slice(0, MAX_KEY_SET_KEYS) })).toBeNull();
    expect(publicKeySetProblem({ keys: [ec.jwk, { ...ec.jwk }] })).toMatch(/key 1 that has the kid "ec" of key 0/);
    // One kid for keys of different types is allowed (RFC 7517 §4.5): they never fit the same assertion.
    expect(publicKeySetProblem({ keys: [ec.jwk, { ...rsa.jwk, kid: "ec" }] })).toBeNull();
  });

  it("names the same algorithms as the verifier accepts", () => {
    expect(Object.keys(JWK_SIGNATURE_ALGORITHMS).sort()).toEqual([...ASSERTION_ALGORITHMS].sort());
  });

  it("reads canonical base64url only", () => {
    expect(canonicalBase64UrlBytes("AQAB")).toEqual(Uint8Array.from([1, 0, 1]));
    expect(canonicalBase64UrlBytes("")).toEqual(new Uint8Array(0));
    expect(canonicalBase64UrlBytes("AQ")).toEqual(Uint8Array.from([1]));
    for (const text of ["AR", "AQAB=", "AQ==", "AQ B", "AQAB\n", "A", "AQ+/", "AQ.B"]) expect(canonicalBase64UrlBytes(text)).toBeNull();
  });

  it("measures canonical base64url exactly as it decodes it, and decodes what Node encodes", () => {
    const text = fc.string({ unit: fc.constantFrom(..."AQgwBRhx-_09z=+/ \né".split("")), maxLength: 12 });
    fc.assert(
      fc.property(text, (t) => {
        expect(canonicalBase64UrlLength(t)).toBe(canonicalBase64UrlBytes(t)?.length ?? null);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        expect(canonicalBase64UrlBytes(b64(bytes))).toEqual(bytes);
      }),
    );
  });
});

describe("key rule: every way keys come in", () => {
  async function issuesOf(promise: Promise<unknown>): Promise<{ path: string; message: string }[]> {
    const error = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    return [...(error as ValidationError).issues];
  }
  const weak = () => rsaOf(1024);
  const jwtBody = (keys: Record<string, unknown>[]) => createBody({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys } });

  it("create, update, import and register refuse a key outside the bounds, each problem at its member, and store nothing", async () => {
    const { registry } = registryFixture();
    const expected = [
      { path: "/jwks/keys/0/n", message: "is a 1024-bit RSA modulus; 2048 to 4096 bits are accepted" },
      { path: "/jwks/keys/1/crv", message: expect.stringContaining("secp256k1") },
      { path: "/jwks/keys/2/alg", message: expect.stringContaining("RSA-OAEP") },
    ];
    const keys = [weak(), { ...ec.jwk, crv: "secp256k1" }, { ...rsa.jwk, alg: "RSA-OAEP" }];
    expect(await issuesOf(registry.create("acct", jwtBody(keys)))).toEqual(expected);
    expect(await issuesOf(registry.importClient("acct", { ...jwtBody(keys), client_id: "legacy-app" }))).toEqual(expected);
    expect(await issuesOf(registry.registerClient("acct", jwtBody(keys)))).toEqual(expected);
    const client = await registry.create("acct", jwtBody([ec.jwk]));
    expect(await issuesOf(registry.update("acct", client.client_id, { jwks: { keys } }))).toEqual(expected);
    expect((await registry.get("acct", client.client_id)).jwks).toEqual({ keys: [ec.jwk] });
    expect((await registry.list("acct")).clients).toHaveLength(1);
  });

  it("a key nested 100 000 deep (x5c) is a validation issue, not a RangeError", async () => {
    const { registry } = registryFixture();
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const keys = [{ ...ec.jwk, x5c: deep }];
    // The input bounds answer before any key rule reads the value.
    const expected = [{ path: `/jwks/keys/0/x5c${"/0".repeat(29)}`, message: "is nested more than 32 levels deep; at most 32 levels are accepted" }];
    expect(await issuesOf(registry.create("acct", jwtBody(keys)))).toEqual(expected);
    expect(await issuesOf(registry.registerClient("acct", jwtBody(keys)))).toEqual(expected);
  });

  it("refuses kids shared by two keys of one type", async () => {
    const { registry } = registryFixture();
    expect(await issuesOf(registry.create("acct", jwtBody([ec.jwk, { ...ec.jwk }])))).toEqual([
      { path: "/jwks/keys/1/kid", message: 'is also the kid of key 0; kids must be unique among keys of one type' },
    ]);
  });

  it("a metadata document whose jwks breaks the bounds is refused as client metadata", async () => {
    const url = "https://tool.example.com/oauth/client.json";
    const { registry } = registryFixture({
      clientIdMetadataDocuments: {
        accountId: "acct_cimd",
        fetchClientMetadata: async () => ({
          client_id: url,
          client_name: "Tool",
          redirect_uris: ["http://127.0.0.1:5000/callback"],
          token_endpoint_auth_method: "private_key_jwt",
          jwks: { keys: [weak()] },
        }),
      },
    });
    const error = await registry.resolveClient(url).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ClientMetadataError);
    expect((error as ClientMetadataError).issues).toContainEqual({ path: "/jwks/keys/0/n", message: expect.stringContaining("1024-bit") });
  });

  it("a fetched jwks_uri set outside the bounds is an invalid document", async () => {
    const JWKS = "https://keys.example.com/jwks.json";
    const cases: [unknown, RegExp][] = [
      [{ keys: [weak()] }, /key 0 whose n is a 1024-bit RSA modulus/],
      [{ keys: Array.from({ length: 11 }, (_, i) => ({ ...ec.jwk, kid: `k${i}` })) }, /holds 11 keys; at most 10/],
      [{ keys: [{ ...ec.jwk, crv: "P-521" }] }, /66-byte P-521 coordinate/],
    ];
    for (const [value, message] of cases) {
      const fetcher: SafeFetcher = { fetchJson: async () => ({ value, maxAgeSeconds: null, noStore: false, status: 200 }) };
      const error = await createRemoteKeySetFetcher({ fetcher })(JWKS).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RemoteFetchError);
      expect(error).toMatchObject({ reason: "invalid_document" });
      expect((error as Error).message).toMatch(message);
    }
  });
});

const AUDIENCE = "https://as.example.com/token";
const CLIENT = "client-1";

function claims(nowSeconds: number): Record<string, unknown> {
  return { iss: CLIENT, sub: CLIENT, aud: AUDIENCE, jti: randomUUID(), iat: nowSeconds, exp: nowSeconds + 60 };
}

function setup() {
  let ms = Date.UTC(2026, 0, 1);
  const now = () => new Date(ms);
  const verifier = createAssertionVerifier({ now, replayCache: createMemoryReplayCache({ now }) });
  return { verifier, seconds: () => Math.floor(ms / 1000), advance: (s: number) => (ms += s * 1000) };
}

function sign(key: { privateKey: CryptoKey }, body: Record<string, unknown>, header: Record<string, unknown>, options: { crit?: Record<string, boolean> } = {}) {
  return new SignJWT(body).setProtectedHeader({ alg: "ES256", ...header }).sign(key.privateKey, options);
}

async function reasonOf(promise: Promise<unknown>): Promise<AssertionFailureReason | "accepted"> {
  return promise.then(
    () => "accepted" as const,
    (e: unknown) => {
      if (!(e instanceof AssertionError)) throw e;
      return e.reason;
    },
  );
}

describe("verifier: few keys per assertion", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** Counts the signature checks jose makes through WebCrypto. */
  function countVerifications() {
    const spy = vi.spyOn(crypto.subtle, "verify");
    return () => spy.mock.calls.length;
  }

  it(`without a kid, tries at most ${MAX_KEYS_TRIED} keys, and only keys that fit the algorithm`, async () => {
    expect(MAX_KEYS_TRIED).toBe(2);
    const { verifier, seconds } = setup();
    const others = await Promise.all([keyPair("ES256"), keyPair("ES256"), keyPair("ES256")]);
    // RSA and Ed25519 keys never fit an ES256 assertion: they are not tried.
    const keySet: JSONWebKeySet = { keys: [rsa.jwk, ed.jwk, ...others.map((k) => k.jwk), ec.jwk] };
    const verifications = countVerifications();
    expect(await reasonOf(verifier.verify(await sign(ec, claims(seconds()), {}), { audience: AUDIENCE, keySet }))).toBe("signature");
    expect(verifications()).toBe(MAX_KEYS_TRIED);
    // The second fitting key is still found.
    expect(await reasonOf(verifier.verify(await sign(others[1]!, claims(seconds()), {}), { audience: AUDIENCE, keySet }))).toBe("accepted");
    // With its kid, the fourth fitting key is the only one tried.
    const before = verifications();
    const withKid: JSONWebKeySet = { keys: [...others.map((k, i) => ({ ...k.jwk, kid: `o${i}` })), ec.jwk] };
    expect(await reasonOf(verifier.verify(await sign(ec, claims(seconds()), { kid: "ec" }), { audience: AUDIENCE, keySet: withKid }))).toBe("accepted");
    expect(verifications() - before).toBe(1);
  });

  it("does not verify again when a remote set's refresh brings the same set", async () => {
    const { verifier, seconds } = setup();
    const stranger = await keyPair("ES256", "ec");
    const calls: boolean[] = [];
    const loader: KeySetSource = async ({ refresh }) => {
      calls.push(refresh);
      // A fresh copy of the same set, as a caching fetcher returns it.
      return structuredClone({ keys: [ec.jwk] });
    };
    const verifications = countVerifications();
    expect(await reasonOf(verifier.verify(await sign(stranger, claims(seconds()), { kid: "ec" }), { audience: AUDIENCE, keySet: loader }))).toBe("signature");
    expect(calls).toEqual([false, true]);
    expect(verifications()).toBe(1);
  });

  it("verifies again when the refresh brings another set", async () => {
    const { verifier, seconds } = setup();
    const rotated = await keyPair("ES256", "ec");
    const loader: KeySetSource = async ({ refresh }) => ({ keys: [refresh ? rotated.jwk : ec.jwk] });
    expect(await reasonOf(verifier.verify(await sign(rotated, claims(seconds()), { kid: "ec" }), { audience: AUDIENCE, keySet: loader }))).toBe("accepted");
  });
});

describe("verifier: one spelling per assertion", () => {
  const variants: [string, (jwt: string) => string][] = [
    ["a trailing newline", (jwt) => `${jwt}\n`],
    ["a trailing space", (jwt) => `${jwt} `],
    ["an inner space in the signature", (jwt) => `${jwt.slice(0, -10)} ${jwt.slice(-10)}`],
    ["= padding on the signature", (jwt) => `${jwt}==`],
    ["= padding on the header", (jwt) => jwt.replace(".", "=.")],
    ["a character outside base64url in the payload", (jwt) => jwt.replace(".", ".+")],
    // 64 bytes end in a character of A, Q, g or w (4 zero bits); the next one sets a trailing bit.
    ["non-zero trailing bits in the signature", (jwt) => `${jwt.slice(0, -1)}${String.fromCharCode(jwt.charCodeAt(jwt.length - 1) + 1)}`],
    ["a signature one byte short", (jwt) => `${jwt.slice(0, -3)}`],
  ];
  it.each(variants)("refuses %s as malformed, and accepts the canonical assertion", async (_name, change) => {
    const { verifier, seconds } = setup();
    const jwt = await sign(ec, claims(seconds()), { kid: "ec" });
    expect(await reasonOf(verifier.verify(change(jwt), { audience: AUDIENCE, keySet: { keys: [ec.jwk] } }))).toBe("malformed");
    expect(await reasonOf(verifier.verify(jwt, { audience: AUDIENCE, keySet: { keys: [ec.jwk] } }))).toBe("accepted");
  });

  it("refuses an unknown crit header as malformed, not as a key set problem", async () => {
    const { verifier, seconds } = setup();
    const jwt = await sign(ec, claims(seconds()), { kid: "ec", crit: ["urn:example:ext"], "urn:example:ext": true }, { crit: { "urn:example:ext": true } });
    const error = await verifier.verify(jwt, { audience: AUDIENCE, keySet: { keys: [ec.jwk] } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AssertionError);
    expect((error as AssertionError).reason).toBe("malformed");
    expect((error as AssertionError).message).toContain("crit");
  });
});
