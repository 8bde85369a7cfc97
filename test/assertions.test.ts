// private_key_jwt client authentication (RFC 7523 §2.2, §3): every rule of the
// verifier, exercised with keys and assertions made by jose (and by
// oauth4webapi, a client library nobody here wrote), on an injected clock.
import { createHash, createSign, generateKeyPairSync, randomUUID } from "node:crypto";
import { CompactSign, SignJWT, UnsecuredJWT, exportJWK, exportSPKI, generateKeyPair, importJWK, jwtVerify } from "jose";
import type { CryptoKey, JSONWebKeySet, JWK } from "jose";
import * as oauth from "oauth4webapi";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ASSERTION_ALGORITHMS,
  AssertionError,
  MAX_ASSERTION_LENGTH,
  MAX_KEY_SET_KEYS,
  createAssertionVerifier,
  createMemoryReplayCache,
  keySetForClient,
  peekClientId,
} from "../src/assertions/index.js";
import type { AssertionFailureReason, AssertionVerifierOptions, KeySetSource, ReplayCache } from "../src/assertions/index.js";
import { OAuthClientError } from "../src/model/errors.js";

const CLIENT = "s6BhdRkqt3";
const ISSUER = "https://as.example.com";
const TOKEN_ENDPOINT = "https://as.example.com/token";
const T0_SECONDS = Date.UTC(2026, 0, 1) / 1000;

/** A clock tests move by hand: nothing sleeps. */
function manualClock(startSeconds = T0_SECONDS) {
  let ms = startSeconds * 1000;
  return {
    now: () => new Date(ms),
    seconds: () => Math.floor(ms / 1000),
    advance: (seconds: number) => {
      ms += seconds * 1000;
    },
  };
}

interface TestKey {
  alg: string;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function makeKey(alg: string, kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

let rsa: TestKey;
let ec: TestKey;
let ed: TestKey;
let otherEc: TestKey;

beforeAll(async () => {
  [rsa, ec, ed, otherEc] = await Promise.all([
    makeKey("RS256", "rsa-1"),
    makeKey("ES256", "ec-1"),
    makeKey("EdDSA", "ed-1"),
    makeKey("ES256", "ec-2"),
  ]);
});

function keySetOf(...keys: TestKey[]): JSONWebKeySet {
  return { keys: keys.map((k) => k.publicJwk) };
}

type Claims = Record<string, unknown>;

/** The claims of a valid assertion at `nowSeconds`; `overrides` set (or, with undefined, remove) claims. */
function claimsAt(nowSeconds: number, overrides: Claims = {}): Claims {
  const claims: Claims = {
    iss: CLIENT,
    sub: CLIENT,
    aud: TOKEN_ENDPOINT,
    jti: randomUUID(),
    iat: nowSeconds,
    exp: nowSeconds + 60,
    ...overrides,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return claims;
}

async function sign(key: TestKey, claims: Claims, header: { alg?: string; kid?: string | null; typ?: string } = {}): Promise<string> {
  const kid = header.kid === null ? undefined : (header.kid ?? key.kid);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: header.alg ?? key.alg, ...(kid === undefined ? {} : { kid }), ...(header.typ === undefined ? {} : { typ: header.typ }) })
    .sign(key.privateKey);
}

function setup(options: AssertionVerifierOptions = {}) {
  const clock = manualClock();
  const replayCache = createMemoryReplayCache({ now: clock.now });
  const verifier = createAssertionVerifier({ now: clock.now, replayCache, ...options });
  return { clock, replayCache, verifier };
}

async function refusal(promise: Promise<unknown>): Promise<AssertionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AssertionError);
  return error as AssertionError;
}

async function expectRefused(promise: Promise<unknown>, reason: AssertionFailureReason): Promise<AssertionError> {
  const error = await refusal(promise);
  expect(error.reason).toBe(reason);
  return error;
}

describe("private_key_jwt: a valid assertion authenticates its client", () => {
  it.each([
    ["RS256", () => rsa],
    ["ES256", () => ec],
    ["EdDSA", () => ed],
  ])("%s: returns the client id, the jti and exp", async (_alg, key) => {
    const { clock, verifier } = setup();
    const claims = claimsAt(clock.seconds());
    const result = await verifier.verify(await sign(key(), claims), { audience: TOKEN_ENDPOINT, keySet: keySetOf(rsa, ec, ed) });
    expect(result).toEqual({ clientId: CLIENT, jti: claims.jti, expiresAt: new Date((claims.exp as number) * 1000) });
  });

  it("accepts the fully-specified Ed25519 algorithm identifier for an Ed25519 key", async () => {
    const { clock, verifier } = setup();
    const key = { ...ed, alg: "Ed25519", publicJwk: { ...ed.publicJwk, alg: "Ed25519" } };
    const result = await verifier.verify(await sign(key, claimsAt(clock.seconds())), { audience: TOKEN_ENDPOINT, keySet: keySetOf(key) });
    expect(result.clientId).toBe(CLIENT);
  });

  it("accepts the client id the request names when iss and sub carry it", async () => {
    const { clock, verifier } = setup();
    const assertion = await sign(ec, claimsAt(clock.seconds()));
    await expect(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec), expectedClientId: CLIENT })).resolves.toMatchObject({
      clientId: CLIENT,
    });
  });

  it("tries every key that fits when the assertion names no kid", async () => {
    const { clock, verifier } = setup();
    const assertion = await sign(otherEc, claimsAt(clock.seconds()), { kid: null });
    const result = await verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec, otherEc) });
    expect(result.clientId).toBe(CLIENT);
  });

  it("verifies with a key set as it is now, even when the same object was changed in place (only deeply frozen sets are known by identity)", async () => {
    const { clock, verifier } = setup();
    const verify = async (key: TestKey, keySet: KeySetSource) =>
      verifier.verify(await sign(key, claimsAt(clock.seconds()), { kid: ec.kid }), { audience: TOKEN_ENDPOINT, keySet });
    const swapped = { ...otherEc.publicJwk, kid: ec.kid };

    const plain = { keys: [{ ...ec.publicJwk }] };
    await expect(verify(ec, plain)).resolves.toMatchObject({ clientId: CLIENT });
    plain.keys[0] = swapped;
    await expectRefused(verify(ec, plain), "signature");
    await expect(verify(otherEc, plain)).resolves.toMatchObject({ clientId: CLIENT });

    // Frozen outside, not inside: its key can still change.
    const shallow = Object.freeze({ keys: Object.freeze([{ ...ec.publicJwk }]) });
    await expect(verify(ec, shallow)).resolves.toMatchObject({ clientId: CLIENT });
    Object.assign(shallow.keys[0]!, { x: swapped.x, y: swapped.y });
    await expectRefused(verify(ec, shallow), "signature");
    await expect(verify(otherEc, shallow)).resolves.toMatchObject({ clientId: CLIENT });

    const frozen = Object.freeze({ keys: Object.freeze([Object.freeze({ ...ec.publicJwk })]) });
    await expect(verify(ec, frozen)).resolves.toMatchObject({ clientId: CLIENT });
    await expect(verify(ec, frozen)).resolves.toMatchObject({ clientId: CLIENT });
    await expectRefused(verify(otherEc, frozen), "signature");
  });

  it("checks each assertion's signature length, and refuses a refused header again, after its header was read for an earlier one", async () => {
    const { clock, verifier } = setup();
    const options = { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) };
    await expect(verifier.verify(await sign(ec, claimsAt(clock.seconds())), options)).resolves.toMatchObject({ clientId: CLIENT });
    const [header, payload, signature] = (await sign(ec, claimsAt(clock.seconds()))).split(".");
    await expectRefused(verifier.verify(`${header}.${payload}.${signature!.slice(0, 84)}`, options), "malformed");
    const typed = await sign(ec, claimsAt(clock.seconds()), { typ: "dpop+jwt" });
    await expectRefused(verifier.verify(typed, options), "malformed");
    await expectRefused(verifier.verify(typed, options), "malformed");
  });

  it("picks the key by each assertion's own kid, whichever keys earlier assertions used: named, empty or none", async () => {
    const { clock, verifier } = setup();
    const unnamed = { ...otherEc, kid: "", publicJwk: { ...otherEc.publicJwk, kid: "" } };
    const keySet = keySetOf(ec, unnamed);
    const verify = async (key: TestKey, kid: string | null) =>
      verifier.verify(await sign(key, claimsAt(clock.seconds()), { kid }), { audience: TOKEN_ENDPOINT, keySet });
    await expect(verify(ec, ec.kid)).resolves.toMatchObject({ clientId: CLIENT });
    await expect(verify(unnamed, "")).resolves.toMatchObject({ clientId: CLIENT });
    // No kid fits both keys: the signature decides, not the key an earlier assertion picked.
    await expect(verify(unnamed, null)).resolves.toMatchObject({ clientId: CLIENT });
    await expect(verify(ec, null)).resolves.toMatchObject({ clientId: CLIENT });
    await expectRefused(verify(ec, ""), "signature");
    await expectRefused(verify(unnamed, ec.kid), "signature");
  });

  it("accepts an assertion oauth4webapi's PrivateKeyJwt builds, with the issuer as its audience", async () => {
    const { clock, verifier } = setup();
    const body = new URLSearchParams();
    // oauth4webapi reads the real clock; its clock-skew setting moves it onto ours.
    const client: oauth.Client = { client_id: CLIENT, [oauth.clockSkew]: clock.seconds() - Math.floor(Date.now() / 1000) };
    await oauth.PrivateKeyJwt({ key: ec.privateKey, kid: ec.kid })({ issuer: ISSUER, token_endpoint: TOKEN_ENDPOINT }, client, body, new Headers());
    expect(body.get("client_assertion_type")).toBe("urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    const assertion = body.get("client_assertion")!;
    expect(peekClientId(assertion)).toBe(body.get("client_id"));
    const result = await verifier.verify(assertion, { audience: [ISSUER, TOKEN_ENDPOINT], keySet: keySetOf(ec), expectedClientId: CLIENT });
    expect(result.clientId).toBe(CLIENT);
  });

  it("is an OAuthClientError with code unauthorized (401) when refused", async () => {
    const { verifier } = setup();
    const error = await refusal(verifier.verify("x.y.z", { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }));
    expect(error).toBeInstanceOf(OAuthClientError);
    expect(error.code).toBe("unauthorized");
    expect(error.status).toBe(401);
  });
});

describe("private_key_jwt: malformed assertions", () => {
  const cases: [string, () => string][] = [
    ["an empty string", () => ""],
    ["two segments", () => "eyJhbGciOiJFUzI1NiJ9.e30"],
    ["a JWE (five segments)", () => "a.b.c.d.e"],
    ["a header that is not base64url JSON", () => "!!!.e30.c2ln"],
    ["an assertion over the length limit", () => `eyJhbGciOiJFUzI1NiJ9.${"a".repeat(MAX_ASSERTION_LENGTH)}.c2ln`],
  ];
  it.each(cases)("refuses %s as malformed", async (_name, assertion) => {
    const { verifier } = setup();
    await expectRefused(verifier.verify(assertion(), { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "malformed");
  });

  it("refuses a signed payload that is not a JSON claims set as malformed", async () => {
    const { verifier } = setup();
    const assertion = await new CompactSign(new TextEncoder().encode("not json"))
      .setProtectedHeader({ alg: "ES256", kid: ec.kid })
      .sign(ec.privateKey);
    await expectRefused(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "malformed");
  });

  it.each(["dpop+jwt", "oauth-authz-req+jwt", "application/at+jwt"])("refuses a JWT typed %s, signed with the client's key for another purpose", async (typ) => {
    const { clock, verifier } = setup();
    const assertion = await sign(ec, claimsAt(clock.seconds()), { typ });
    await expectRefused(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "malformed");
  });

  it.each(["JWT", "jwt", "client-authentication+jwt", "application/client-authentication+jwt"])("accepts typ %s", async (typ) => {
    const { clock, verifier } = setup();
    const assertion = await sign(ec, claimsAt(clock.seconds()), { typ });
    await expect(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) })).resolves.toMatchObject({ clientId: CLIENT });
  });

  it("refuses a time claim that is not a number as malformed", async () => {
    const { clock, verifier } = setup();
    const assertion = await sign(ec, claimsAt(clock.seconds(), { nbf: "yesterday" }));
    await expectRefused(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "malformed");
  });

  it("refuses a jti that is not a string as malformed", async () => {
    const { clock, verifier } = setup();
    const assertion = await sign(ec, claimsAt(clock.seconds(), { jti: 42 }));
    await expectRefused(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "malformed");
  });
});

describe("private_key_jwt: algorithms are asymmetric only", () => {
  it('refuses alg "none" (an unsigned JWT)', async () => {
    const { clock, verifier } = setup();
    const assertion = new UnsecuredJWT(claimsAt(clock.seconds())).encode();
    await expectRefused(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "algorithm");
  });

  it("refuses HS256 keyed with the client's public key (the algorithm confusion attack)", async () => {
    const { clock, verifier } = setup();
    const pem = await exportSPKI((await generateKeyPair("RS256", { extractable: true })).publicKey);
    const forged = await new SignJWT(claimsAt(clock.seconds())).setProtectedHeader({ alg: "HS256", kid: rsa.kid }).sign(new TextEncoder().encode(pem));
    await expectRefused(verifier.verify(forged, { audience: TOKEN_ENDPOINT, keySet: keySetOf(rsa) }), "algorithm");
  });

  it("refuses an HS256 client_secret_jwt assertion built by oauth4webapi with the public JWK as the secret", async () => {
    const { clock, verifier } = setup();
    const body = new URLSearchParams();
    const client: oauth.Client = { client_id: CLIENT, [oauth.clockSkew]: clock.seconds() - Math.floor(Date.now() / 1000) };
    await oauth.ClientSecretJwt(JSON.stringify(ec.publicJwk))({ issuer: ISSUER }, client, body, new Headers());
    await expectRefused(verifier.verify(body.get("client_assertion")!, { audience: ISSUER, keySet: keySetOf(ec) }), "algorithm");
  });

  it("refuses an algorithm left out of the verifier's list", async () => {
    const { clock, verifier } = setup({ algorithms: ["ES256"] });
    const assertion = await sign(rsa, claimsAt(clock.seconds()));
    await expectRefused(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(rsa) }), "algorithm");
  });

  it("cannot be configured with none, HS256 or an unknown algorithm", () => {
    for (const alg of ["none", "HS256", "RS1", "ES256K"]) {
      expect(() => createAssertionVerifier({ algorithms: [alg] as never })).toThrow(TypeError);
    }
    expect(() => createAssertionVerifier({ algorithms: [] })).toThrow(TypeError);
    expect((ASSERTION_ALGORITHMS as readonly string[]).filter((alg) => alg === "none" || alg.startsWith("HS"))).toEqual([]);
  });
});

describe("private_key_jwt: signatures", () => {
  it("refuses an assertion signed by another key under the client's kid", async () => {
    const { clock, verifier } = setup();
    const assertion = await sign(otherEc, claimsAt(clock.seconds()), { kid: ec.kid });
    await expectRefused(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "signature");
  });

  it("refuses an assertion whose claims were changed after signing", async () => {
    const { clock, verifier } = setup();
    const [header, , signature] = (await sign(ec, claimsAt(clock.seconds()))).split(".");
    const payload = Buffer.from(JSON.stringify(claimsAt(clock.seconds(), { iss: "attacker", sub: "attacker" }))).toString("base64url");
    await expectRefused(verifier.verify(`${header}.${payload}.${signature}`, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "signature");
  });

  it("refuses, when no kid is named, a signature none of the fitting keys verifies", async () => {
    const { clock, verifier } = setup();
    const stranger = await makeKey("ES256", "stranger");
    const assertion = await sign(stranger, claimsAt(clock.seconds()), { kid: null });
    await expectRefused(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec, otherEc) }), "signature");
  });
});

describe("private_key_jwt: iss and sub are the client id", () => {
  it.each([
    ["iss differs from sub", { sub: "someone-else" }],
    ["iss is missing", { iss: undefined }],
    ["sub is missing", { sub: undefined }],
    ["iss is not a string", { iss: 7, sub: 7 }],
  ])("refuses an assertion where %s", async (_name, overrides) => {
    const { clock, verifier } = setup();
    const assertion = await sign(ec, claimsAt(clock.seconds(), overrides));
    await expectRefused(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "issuer_subject");
  });

  it("refuses an assertion for another client id than the request names", async () => {
    const { clock, verifier } = setup();
    const assertion = await sign(ec, claimsAt(clock.seconds()));
    await expectRefused(
      verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec), expectedClientId: "other-client" }),
      "issuer_subject",
    );
  });
});

describe("private_key_jwt: audience", () => {
  it("refuses an assertion meant for another server", async () => {
    const { clock, verifier } = setup();
    const assertion = await sign(ec, claimsAt(clock.seconds(), { aud: "https://other.example.com/token" }));
    await expectRefused(verifier.verify(assertion, { audience: [ISSUER, TOKEN_ENDPOINT], keySet: keySetOf(ec) }), "audience");
  });

  it("refuses an assertion without aud", async () => {
    const { clock, verifier } = setup();
    const assertion = await sign(ec, claimsAt(clock.seconds(), { aud: undefined }));
    await expectRefused(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "audience");
  });

  it("compares exactly: a trailing slash or another case is another audience", async () => {
    const { clock, verifier } = setup();
    for (const aud of [`${TOKEN_ENDPOINT}/`, TOKEN_ENDPOINT.toUpperCase()]) {
      const assertion = await sign(ec, claimsAt(clock.seconds(), { aud }));
      await expectRefused(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "audience");
    }
  });

  it("accepts an aud array holding a wrong and a right value", async () => {
    const { clock, verifier } = setup();
    const assertion = await sign(ec, claimsAt(clock.seconds(), { aud: ["https://other.example.com", TOKEN_ENDPOINT] }));
    await expect(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) })).resolves.toMatchObject({ clientId: CLIENT });
  });

  it("accepts the issuer when the embedder allows the issuer and the token endpoint", async () => {
    const { clock, verifier } = setup();
    const assertion = await sign(ec, claimsAt(clock.seconds(), { aud: ISSUER }));
    await expect(verifier.verify(assertion, { audience: [TOKEN_ENDPOINT, ISSUER], keySet: keySetOf(ec) })).resolves.toMatchObject({
      clientId: CLIENT,
    });
  });

  it("with singleAudience, refuses an aud list of several values even when one is right", async () => {
    const { clock, verifier } = setup({ singleAudience: true });
    const now = clock.seconds();
    const several = await sign(ec, claimsAt(now, { aud: [ISSUER, "https://other.example.com"] }));
    await expectRefused(verifier.verify(several, { audience: ISSUER, keySet: keySetOf(ec) }), "audience");
    for (const aud of [ISSUER, [ISSUER]]) {
      const alone = await sign(ec, claimsAt(now, { aud }));
      await expect(verifier.verify(alone, { audience: ISSUER, keySet: keySetOf(ec) })).resolves.toMatchObject({ clientId: CLIENT });
    }
  });

  it("requires the embedder to name at least one audience", async () => {
    const { clock, verifier } = setup();
    const assertion = await sign(ec, claimsAt(clock.seconds()));
    await expect(verifier.verify(assertion, { audience: [], keySet: keySetOf(ec) })).rejects.toThrow(TypeError);
    await expect(verifier.verify(assertion, { audience: "", keySet: keySetOf(ec) })).rejects.toThrow(TypeError);
  });
});

describe("private_key_jwt: the time and audience claims, as jose's jwtVerify judges them", () => {
  // The verifier checks these claims itself, on the claims it decoded once;
  // each case must get jose's verdict, and the reason jose's error maps to.
  const now = T0_SECONDS;
  const cases: [string, Claims, AssertionFailureReason | null][] = [
    ["aud the token endpoint", {}, null],
    ["aud a list naming it", { aud: ["https://other.example", TOKEN_ENDPOINT] }, null],
    ["no aud", { aud: undefined }, "audience"],
    ["aud another server", { aud: "https://other.example" }, "audience"],
    ["aud a list without it", { aud: ["https://other.example"] }, "audience"],
    ["aud an empty list", { aud: [] }, "audience"],
    ["aud a number", { aud: 7 }, "audience"],
    ["aud null", { aud: null }, "audience"],
    ["no aud and no exp", { aud: undefined, exp: undefined }, "audience"],
    ["no exp", { exp: undefined }, "lifetime"],
    ["exp a string", { exp: String(now + 60) }, "malformed"],
    ["exp null", { exp: null }, "malformed"],
    ["exp at now minus the tolerance", { iat: now - 100, exp: now - 30 }, "expired"],
    ["exp within the tolerance", { iat: now - 100, exp: now - 29 }, null],
    ["nbf beyond the tolerance", { nbf: now + 31 }, "not_yet_valid"],
    ["nbf at the tolerance", { nbf: now + 30 }, null],
    ["nbf a string", { nbf: "soon" }, "malformed"],
    ["iat a string", { iat: "now" }, "malformed"],
    ["iat a string and aud wrong", { iat: "now", aud: "https://other.example" }, "audience"],
    ["nbf a string and expired", { nbf: "soon", iat: now - 100, exp: now - 60 }, "malformed"],
  ];
  it.each(cases)("%s", async (_name, overrides, reason) => {
    const { clock, verifier } = setup();
    const assertion = await sign(ec, claimsAt(now, overrides));
    const options = { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) };
    const josePasses = await jwtVerify(assertion, await importJWK(ec.publicJwk, "ES256"), {
      algorithms: ["ES256"],
      audience: [TOKEN_ENDPOINT],
      clockTolerance: 30,
      currentDate: clock.now(),
      requiredClaims: ["exp"],
    }).then(
      () => true,
      () => false,
    );
    expect(josePasses).toBe(reason === null);
    if (reason === null) await expect(verifier.verify(assertion, options)).resolves.toMatchObject({ clientId: CLIENT });
    else await expectRefused(verifier.verify(assertion, options), reason);
  });
});

describe("private_key_jwt: time (clock tolerance 30 s, lifetime 300 s)", () => {
  it("refuses an assertion expired beyond the tolerance and accepts one expired within it", async () => {
    const { clock, verifier } = setup();
    const now = clock.seconds();
    const late = await sign(ec, claimsAt(now, { iat: now - 100, exp: now - 31 }));
    await expectRefused(verifier.verify(late, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "expired");
    const barely = await sign(ec, claimsAt(now, { iat: now - 100, exp: now - 10 }));
    await expect(verifier.verify(barely, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) })).resolves.toMatchObject({ clientId: CLIENT });
  });

  it("refuses an assertion whose nbf is in the future", async () => {
    const { clock, verifier } = setup();
    const now = clock.seconds();
    const assertion = await sign(ec, claimsAt(now, { nbf: now + 60, exp: now + 120 }));
    await expectRefused(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "not_yet_valid");
  });

  it("refuses an assertion issued in the future", async () => {
    const { clock, verifier } = setup();
    const now = clock.seconds();
    const assertion = await sign(ec, claimsAt(now, { iat: now + 60, exp: now + 120 }));
    await expectRefused(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "not_yet_valid");
  });

  it("refuses an assertion without exp", async () => {
    const { clock, verifier } = setup();
    const assertion = await sign(ec, claimsAt(clock.seconds(), { exp: undefined }));
    await expectRefused(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "lifetime");
  });

  it("refuses exp more than maxLifetimeSeconds after iat, and accepts exactly that much", async () => {
    const { clock, verifier } = setup();
    const now = clock.seconds();
    const long = await sign(ec, claimsAt(now, { exp: now + 301 }));
    await expectRefused(verifier.verify(long, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "lifetime");
    const longest = await sign(ec, claimsAt(now, { exp: now + 300 }));
    await expect(verifier.verify(longest, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) })).resolves.toMatchObject({ clientId: CLIENT });
  });

  it("without iat, measures the lifetime from now, allowing the clock tolerance", async () => {
    const { clock, verifier } = setup();
    const now = clock.seconds();
    const ahead = await sign(ec, claimsAt(now, { iat: undefined, exp: now + 330 }));
    await expect(verifier.verify(ahead, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) })).resolves.toMatchObject({ clientId: CLIENT });
    const tooLong = await sign(ec, claimsAt(now, { iat: undefined, exp: now + 331 }));
    await expectRefused(verifier.verify(tooLong, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "lifetime");
  });

  it("honours a configured lifetime and tolerance", async () => {
    const { clock, verifier } = setup({ maxLifetimeSeconds: 60, clockToleranceSeconds: 0 });
    const now = clock.seconds();
    await expectRefused(
      verifier.verify(await sign(ec, claimsAt(now, { exp: now + 61 })), { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }),
      "lifetime",
    );
    await expectRefused(
      verifier.verify(await sign(ec, claimsAt(now, { iat: now - 30, exp: now - 1 })), { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }),
      "expired",
    );
    expect(() => createAssertionVerifier({ maxLifetimeSeconds: 0 })).toThrow(TypeError);
    expect(() => createAssertionVerifier({ clockToleranceSeconds: -1 })).toThrow(TypeError);
  });
});

describe("private_key_jwt: single use of jti", () => {
  it.each([
    ["no jti", { jti: undefined }],
    ["an empty jti", { jti: "" }],
  ])("refuses an assertion with %s", async (_name, overrides) => {
    const { clock, verifier } = setup();
    const assertion = await sign(ec, claimsAt(clock.seconds(), overrides));
    await expectRefused(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "missing_jti");
  });

  it("refuses the same assertion presented again within its lifetime", async () => {
    const { clock, verifier } = setup();
    const assertion = await sign(ec, claimsAt(clock.seconds()));
    await verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) });
    clock.advance(30);
    await expectRefused(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "replayed");
  });

  it("frees the jti once the assertion has expired (tolerance included)", async () => {
    const { clock, replayCache, verifier } = setup();
    const jti = "reused-jti";
    const first = await sign(ec, claimsAt(clock.seconds(), { jti }));
    await verifier.verify(first, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) });
    expect(replayCache.size).toBe(1);
    clock.advance(60 + 29);
    expect(replayCache.size).toBe(1);
    await expectRefused(verifier.verify(first, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "replayed");
    clock.advance(1);
    expect(replayCache.size).toBe(0);
    // Forgotten only once the exp check refuses it by itself.
    await expectRefused(verifier.verify(first, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "expired");
    const again = await sign(ec, claimsAt(clock.seconds(), { jti }));
    await expect(verifier.verify(again, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) })).resolves.toMatchObject({ jti });
  });

  it("keys the jti by client: two clients may use the same jti", async () => {
    const { clock, verifier } = setup();
    const jti = "shared-jti";
    const first = await sign(ec, claimsAt(clock.seconds(), { jti }));
    const second = await sign(ec, claimsAt(clock.seconds(), { jti, iss: "client-two", sub: "client-two" }));
    await verifier.verify(first, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) });
    await expect(verifier.verify(second, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) })).resolves.toMatchObject({ clientId: "client-two" });
  });

  it("records a jti only after the signature and claims verified: a forgery cannot burn it", async () => {
    const { clock, replayCache, verifier } = setup();
    const jti = "victim-jti";
    const forged = await sign(otherEc, claimsAt(clock.seconds(), { jti }), { kid: ec.kid });
    await expectRefused(verifier.verify(forged, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "signature");
    const wrongAudience = await sign(ec, claimsAt(clock.seconds(), { jti, aud: "https://elsewhere.example" }));
    await expectRefused(verifier.verify(wrongAudience, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "audience");
    expect(replayCache.size).toBe(0);
    const genuine = await sign(ec, claimsAt(clock.seconds(), { jti }));
    await expect(verifier.verify(genuine, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) })).resolves.toMatchObject({ jti });
  });

  it("fails closed when the replay cache is full of unexpired entries", async () => {
    const clock = manualClock();
    const verifier = createAssertionVerifier({ now: clock.now, replayCache: createMemoryReplayCache({ maxEntries: 1, now: clock.now }) });
    await verifier.verify(await sign(ec, claimsAt(clock.seconds())), { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) });
    // Its own reason since the cache is shared fairly: a full cache is not a replay.
    await expectRefused(
      verifier.verify(await sign(ec, claimsAt(clock.seconds())), { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }),
      "too_many_assertions",
    );
  });

  it("passes a failure of the replay cache through rather than accepting the assertion", async () => {
    const clock = manualClock();
    const down = new Error("replay store unreachable");
    const replayCache: ReplayCache = {
      add: () => Promise.reject(down),
    };
    const verifier = createAssertionVerifier({ now: clock.now, replayCache });
    await expect(verifier.verify(await sign(ec, claimsAt(clock.seconds())), { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) })).rejects.toBe(down);
  });

  it("hands the replay cache a fixed-length key per (client, jti) held until exp plus the tolerance", async () => {
    const clock = manualClock();
    const calls: [string, number][] = [];
    const replayCache: ReplayCache = {
      add: (key, expiresAtMs) => {
        calls.push([key, expiresAtMs]);
        return true;
      },
    };
    const verifier = createAssertionVerifier({ now: clock.now, replayCache });
    const claims = claimsAt(clock.seconds(), { jti: "j".repeat(2000) });
    await verifier.verify(await sign(ec, claims), { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) });
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toMatch(/^[0-9a-f]{64}$/);
    expect(calls[0]![1]).toBe(((claims.exp as number) + 30) * 1000);
  });

  it("keys every (client, jti) the same way on every runtime: hex SHA-256 of the JSON text [client id, jti], non-ASCII included", async () => {
    // Processes of several releases or runtimes on one store must compute one key, or each would accept the other's replay.
    const clock = manualClock();
    const keys: string[] = [];
    const replayCache: ReplayCache = { add: (key) => (keys.push(key), true) };
    const verifier = createAssertionVerifier({ now: clock.now, replayCache });
    const client = "klïent-☃";
    const jti = "jti-ü-😀-\ud800";
    const key = { ...ec, kid: "clé-☃", publicJwk: { ...ec.publicJwk, kid: "clé-☃" } };
    const result = await verifier.verify(await sign(key, claimsAt(clock.seconds(), { iss: client, sub: client, jti })), {
      audience: TOKEN_ENDPOINT,
      keySet: keySetOf(ec, key),
    });
    expect(result).toMatchObject({ clientId: client, jti });
    expect(keys).toEqual([createHash("sha256").update(JSON.stringify([client, jti]), "utf8").digest("hex")]);
  });

  it("uses its own memory replay cache when none is given", async () => {
    const clock = manualClock();
    const verifier = createAssertionVerifier({ now: clock.now });
    const assertion = await sign(ec, claimsAt(clock.seconds()));
    await verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) });
    await expectRefused(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "replayed");
  });
});

describe("private_key_jwt: key sets", () => {
  /** A remote key set: `first` until a refresh, `afterRefresh` after it; every call recorded. */
  function remote(first: JSONWebKeySet, afterRefresh: JSONWebKeySet = first) {
    const calls: { refresh: boolean }[] = [];
    let refreshed = false;
    const loader: KeySetSource = async (options) => {
      calls.push(options);
      if (options.refresh) refreshed = true;
      return refreshed ? afterRefresh : first;
    };
    return { calls, loader };
  }

  it("refuses an unknown kid in a stored key set", async () => {
    const { clock, verifier } = setup();
    const assertion = await sign(otherEc, claimsAt(clock.seconds()));
    await expectRefused(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySetOf(ec) }), "key_not_found");
  });

  it("refetches a remote key set once for an unknown kid and accepts the rotated key", async () => {
    const { clock, verifier } = setup();
    const { calls, loader } = remote(keySetOf(ec), keySetOf(ec, otherEc));
    const result = await verifier.verify(await sign(otherEc, claimsAt(clock.seconds())), { audience: TOKEN_ENDPOINT, keySet: loader });
    expect(result.clientId).toBe(CLIENT);
    expect(calls).toEqual([{ refresh: false }, { refresh: true }]);
  });

  it("refetches once, then refuses, when the kid is unknown to the fresh set too", async () => {
    const { clock, verifier } = setup();
    const { calls, loader } = remote(keySetOf(ec));
    const assertion = await sign(otherEc, claimsAt(clock.seconds()));
    await expectRefused(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: loader }), "key_not_found");
    expect(calls).toEqual([{ refresh: false }, { refresh: true }]);
  });

  it("refetches once when no cached key verifies a kid-less assertion", async () => {
    const { clock, verifier } = setup();
    const { calls, loader } = remote(keySetOf(ec), keySetOf(otherEc));
    const assertion = await sign(otherEc, claimsAt(clock.seconds()), { kid: null });
    await expect(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: loader })).resolves.toMatchObject({ clientId: CLIENT });
    expect(calls).toEqual([{ refresh: false }, { refresh: true }]);
  });

  it("does not refetch for a refusal a fresh key set cannot change", async () => {
    const { clock, verifier } = setup();
    const { calls, loader } = remote(keySetOf(ec));
    const assertion = await sign(ec, claimsAt(clock.seconds(), { aud: "https://elsewhere.example" }));
    await expectRefused(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: loader }), "audience");
    expect(calls).toEqual([{ refresh: false }]);
  });

  it("refuses a key set that holds a private key, even beside the right public key", async () => {
    const { clock, verifier } = setup();
    const privateJwk = { ...(await exportJWK(otherEc.privateKey)), kid: otherEc.kid };
    const assertion = await sign(ec, claimsAt(clock.seconds()));
    const error = await expectRefused(
      verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: { keys: [ec.publicJwk, privateJwk] } }),
      "key_set",
    );
    expect(error.message).toContain('"d"');
  });

  it("refuses a key set with a symmetric key", async () => {
    const { clock, verifier } = setup();
    const assertion = await sign(ec, claimsAt(clock.seconds()));
    const keySet = { keys: [ec.publicJwk, { kty: "oct", k: "c2VjcmV0LXNlY3JldC1zZWNyZXQ" }] };
    await expectRefused(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet }), "key_set");
  });

  it("refuses a remote key set whose refresh brings a private key", async () => {
    const { clock, verifier } = setup();
    const privateJwk = { ...(await exportJWK(otherEc.privateKey)), kid: otherEc.kid };
    const { loader } = remote(keySetOf(ec), { keys: [privateJwk] });
    await expectRefused(verifier.verify(await sign(otherEc, claimsAt(clock.seconds())), { audience: TOKEN_ENDPOINT, keySet: loader }), "key_set");
  });

  it.each([
    ["not an object", "keys"],
    ["an object without keys", { jwks: [] }],
    ["a key without kty", { keys: [{ crv: "P-256" }] }],
    ["too many keys", { keys: Array.from({ length: MAX_KEY_SET_KEYS + 1 }, () => ({ kty: "EC" })) }],
  ])("refuses a key set that is %s", async (_name, keySet) => {
    const { clock, verifier } = setup();
    const assertion = await sign(ec, claimsAt(clock.seconds()));
    await expectRefused(verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: keySet as never }), "key_set");
  });

  it("refuses, with the cause kept, when a remote key set cannot be loaded", async () => {
    const { clock, verifier } = setup();
    const cause = new Error("connection refused");
    const error = await expectRefused(
      verifier.verify(await sign(ec, claimsAt(clock.seconds())), { audience: TOKEN_ENDPOINT, keySet: () => Promise.reject(cause) }),
      "key_set",
    );
    expect(error.cause).toBe(cause);
  });

  it("refuses an RSA key shorter than 2048 bits", async () => {
    const { clock, verifier } = setup();
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    const header = Buffer.from(JSON.stringify({ alg: "RS256", kid: "weak" })).toString("base64url");
    const payload = Buffer.from(JSON.stringify(claimsAt(clock.seconds()))).toString("base64url");
    const signature = createSign("RSA-SHA256").update(`${header}.${payload}`).sign(privateKey).toString("base64url");
    const keySet = { keys: [{ ...publicKey.export({ format: "jwk" }), kid: "weak" }] };
    await expectRefused(verifier.verify(`${header}.${payload}.${signature}`, { audience: TOKEN_ENDPOINT, keySet }), "key_set");
  });

  it("verifies with the key set as it is now when a key is replaced under the same kid", async () => {
    const { clock, verifier } = setup();
    const before = { keys: [{ ...ec.publicJwk, kid: "current" }] };
    const after = { keys: [{ ...otherEc.publicJwk, kid: "current" }] };
    const byOld = () => sign(ec, claimsAt(clock.seconds()), { kid: "current" });
    const byNew = () => sign(otherEc, claimsAt(clock.seconds()), { kid: "current" });
    await expect(verifier.verify(await byOld(), { audience: TOKEN_ENDPOINT, keySet: before })).resolves.toMatchObject({ clientId: CLIENT });
    await expectRefused(verifier.verify(await byOld(), { audience: TOKEN_ENDPOINT, keySet: after }), "signature");
    await expect(verifier.verify(await byNew(), { audience: TOKEN_ENDPOINT, keySet: after })).resolves.toMatchObject({ clientId: CLIENT });
  });

  it("ignores a key meant for encryption", async () => {
    const { clock, verifier } = setup();
    const assertion = await sign(ec, claimsAt(clock.seconds()));
    await expectRefused(
      verifier.verify(assertion, { audience: TOKEN_ENDPOINT, keySet: { keys: [{ ...ec.publicJwk, use: "enc" }] } }),
      "key_not_found",
    );
  });
});

describe("peekClientId: the claimed client id, before any verification", () => {
  it("returns iss when it equals sub", async () => {
    expect(peekClientId(await sign(ec, claimsAt(T0_SECONDS)))).toBe(CLIENT);
  });

  it.each([
    ["garbage", () => Promise.resolve("not a jwt")],
    ["a non-string", () => Promise.resolve(42 as unknown as string)],
    ["iss differing from sub", () => sign(ec, claimsAt(T0_SECONDS, { sub: "other" }))],
    ["an empty iss", () => sign(ec, claimsAt(T0_SECONDS, { iss: "", sub: "" }))],
    ["an over-long assertion", () => Promise.resolve(`a.${"b".repeat(MAX_ASSERTION_LENGTH)}.c`)],
  ])("returns null for %s", async (_name, assertion) => {
    expect(peekClientId(await assertion())).toBeNull();
  });
});

describe("keySetForClient", () => {
  it("returns a stored jwks, checked", () => {
    expect(keySetForClient({ jwks: keySetOf(ec) })).toEqual(keySetOf(ec));
  });

  it("returns a loader that fetches the jwks_uri through the given fetcher", async () => {
    const calls: [string, { refresh: boolean }][] = [];
    const keySet = keySetForClient({ jwks_uri: "https://client.example/jwks.json", jwks: null }, async (uri, options) => {
      calls.push([uri, options]);
      return keySetOf(ec);
    });
    expect(typeof keySet).toBe("function");
    const clock = manualClock();
    const verifier = createAssertionVerifier({ now: clock.now });
    await verifier.verify(await sign(ec, claimsAt(clock.seconds())), { audience: TOKEN_ENDPOINT, keySet });
    expect(calls).toEqual([["https://client.example/jwks.json", { refresh: false }]]);
  });

  it.each([
    ["neither jwks nor jwks_uri", {}, true],
    ["both jwks and jwks_uri", { jwks: { keys: [] }, jwks_uri: "https://client.example/jwks.json" }, true],
    ["a jwks_uri but no fetcher", { jwks_uri: "https://client.example/jwks.json" }, false],
    ["a jwks holding a private key", { jwks: { keys: [{ kty: "EC", crv: "P-256", x: "x", y: "y", d: "d" }] } }, true],
  ])("refuses a client with %s", (_name, client, withFetcher) => {
    const fetcher = withFetcher ? async () => ({ keys: [] }) : undefined;
    let thrown: unknown;
    try {
      keySetForClient(client, fetcher);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(AssertionError);
    expect((thrown as AssertionError).reason).toBe("key_set");
  });
});
