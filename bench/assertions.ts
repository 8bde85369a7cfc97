/**
 * The private_key_jwt rows (issue 20): what a forged assertion costs
 * against the worst key set the key rules admit, next to a valid
 * assertion against a one-key client, measured side by side in the same
 * interleaved rounds, through the assertion verifier.
 *
 * Worst set the rules admit: MAX_JWKS_KEYS (10) RSA keys of
 * MAX_RSA_MODULUS_BITS (4096) with the largest public exponent accepted
 * (65537), no kids, and a forged RS256 assertion naming no kid: every key
 * fits, so the verifier tries the first MAX_KEYS_TRIED (2) and gives up.
 * The valid side is the same family on the cheapest honest client: RS256
 * with a one-key RSA-2048 set, with a fresh jti on every call (signed
 * untimed beforehand), so it goes all the way through the replay cache.
 */
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { importJWK, SignJWT, type JWK, type JSONWebKeySet } from "jose";
import { createAssertionVerifier, MAX_KEYS_TRIED, MAX_KEY_SET_KEYS, MAX_RSA_MODULUS_BITS } from "../src/assertions/index.js";
import { interleave, type Clocks, type HarnessOptions, type Workload } from "./harness.js";

const AUDIENCE = "https://as.example.com/token";
const CLIENT = "bench-client";
/** Calls prepared per untimed setup: below the replay cache's per-client budget (1 000). */
const BATCH = 400;

/** One assertion comparison: per-round costs (µs per assertion) of the forged and the valid side. */
export interface AssertionComparison {
  name: string;
  ours: string;
  baseline: string;
  costs: Clocks;
}

function rsaKey(bits: number): { privateJwk: JWK; publicJwk: JWK } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: bits, publicExponent: 65_537 });
  return { privateJwk: privateKey.export({ format: "jwk" }) as JWK, publicJwk: publicKey.export({ format: "jwk" }) as JWK };
}

/**
 * An odd number of `bits` bits as a JWK modulus: the keys after the ones
 * the verifier tries only need to pass the key rules, and generating eight
 * more 4096-bit keys would take longer than the whole measurement.
 */
function syntheticModulus(bits: number, seed: number): string {
  const bytes = new Uint8Array(bits / 8).map((_, i) => (i * 131 + seed * 17 + 7) & 0xff);
  bytes[0] = 0x80 | bytes[0]!;
  bytes[bytes.length - 1]! |= 1;
  return Buffer.from(bytes).toString("base64url");
}

/**
 * Measures the forged and valid assertions, both stored and remote
 * (`jwks_uri` through a loader that returns a copy of the same set on
 * refresh, as the rate-limited default fetcher does for a forger).
 *
 * @example
 * for (const row of await measureAssertions({ rounds: 11, roundMs: 40 })) console.log(row.name);
 */
export async function measureAssertions(options: HarnessOptions): Promise<AssertionComparison[]> {
  const tried = Array.from({ length: MAX_KEYS_TRIED }, () => rsaKey(MAX_RSA_MODULUS_BITS));
  const worst: JSONWebKeySet = {
    keys: [
      ...tried.map((k) => k.publicJwk),
      ...Array.from({ length: MAX_KEY_SET_KEYS - MAX_KEYS_TRIED }, (_, i) => ({ kty: "RSA", n: syntheticModulus(MAX_RSA_MODULUS_BITS, i), e: "AQAB" })),
    ],
  };
  const valid = rsaKey(2048);
  const validSet: JSONWebKeySet = { keys: [{ ...valid.publicJwk, kid: "k1" }] };
  const validSigner = await importJWK(valid.privateJwk, "RS256");
  const forger = await importJWK(rsaKey(2048).privateJwk, "RS256");

  let ms = Date.UTC(2026, 0, 1);
  const now = () => new Date(ms);
  const verifier = createAssertionVerifier({ now });
  const claims = () => {
    const iat = Math.floor(ms / 1000);
    return { iss: CLIENT, sub: CLIENT, aud: AUDIENCE, jti: randomUUID(), iat, exp: iat + 60 };
  };
  const forged = await new SignJWT(claims()).setProtectedHeader({ alg: "RS256" }).sign(forger);

  let prepared: string[] = [];
  const validWorkload: Workload = {
    maxBatch: BATCH,
    async setup(n) {
      // Past the lifetime of the previous batch's assertions, so the replay cache holds one batch at most.
      ms += 120_000;
      prepared = await Promise.all(Array.from({ length: n }, () => new SignJWT(claims()).setProtectedHeader({ alg: "RS256", kid: "k1" }).sign(validSigner)));
    },
    run: (i) => verifier.verify(prepared[i]!, { audience: AUDIENCE, keySet: validSet }),
  };
  const refused = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch {
      return;
    }
    throw new Error("the forged assertion was accepted");
  };
  // Refresh or not, the loader hands out a fresh copy of the same set, as the caching fetcher does.
  const remoteWorst = async () => structuredClone(worst);

  await validWorkload.setup!(1);
  await validWorkload.run(0);
  await refused(verifier.verify(forged, { audience: AUDIENCE, keySet: worst }));

  const stored = await interleave(
    {
      ours: { run: () => refused(verifier.verify(forged, { audience: AUDIENCE, keySet: worst })) },
      baseline: validWorkload,
    },
    options,
  );
  const remote = await interleave(
    {
      ours: { run: () => refused(verifier.verify(forged, { audience: AUDIENCE, keySet: remoteWorst })) },
      baseline: validWorkload,
    },
    options,
  );
  const worstLabel = `${MAX_KEY_SET_KEYS} RSA-${MAX_RSA_MODULUS_BITS} keys, e = 65537, no kid`;
  const baseline = "valid RS256, one RSA-2048 key (fresh jti)";
  return [
    { name: "private_key_jwt forged RS256 vs valid, stored jwks", ours: `forged RS256 against ${worstLabel}`, baseline, costs: stored },
    {
      name: "private_key_jwt forged RS256 vs valid, jwks_uri",
      ours: `forged RS256 against a jwks_uri of ${worstLabel}; the refresh brings the same set`,
      baseline,
      costs: remote,
    },
  ];
}
