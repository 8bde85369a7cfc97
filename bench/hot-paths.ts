/**
 * The hot-path rows (issue 17 item 5), each measured side by side with its
 * reference in the same interleaved rounds, on the memory store:
 * - `resolveClient` of a Client ID Metadata Document client whose document
 *   the fetcher already holds (the same document every call) next to
 *   `resolveClient` of a stored id (target: at least 0.5× its rate);
 * - `authenticateAssertion` of a valid ES256 assertion (fresh jti each
 *   call, stored jwks) next to jose's `jwtVerify` alone with the same key
 *   on the same assertions (target: at least 0.8× its rate). Neither side
 *   imports a key per call: the baseline is handed the CryptoKey, ours
 *   imports the client's stored JWK once per distinct key set and keeps
 *   it. Everything else is ours alone: the client lookup, the key set
 *   lookup, the claims rules, the single-use record in the store and the
 *   client's wire form.
 */
import { randomUUID } from "node:crypto";
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK } from "jose";
import { createMemoryStore } from "../adapters/memory.js";
import { createOAuthClientRegistry } from "../src/index.js";
import { interleave, type Clocks, type HarnessOptions, type Workload } from "./harness.js";

/** One comparison: per-round costs (µs per call) of ours and of the reference. */
export interface HotPathComparison {
  name: string;
  ours: string;
  baseline: string;
  costs: Clocks;
  /** The least rate of ours relative to the baseline the issue asks for. */
  target: number;
}

const DOCUMENT_URL = "https://app.example.com/oauth/client.json";
const AUDIENCE = "https://as.example.com/token";
/** Assertions signed per untimed setup: under the per-client single-use budget (1 000). */
const BATCH = 400;

/**
 * Measures both rows.
 *
 * @example
 * for (const row of await measureHotPaths({ rounds: 11, roundMs: 40 })) console.log(row.name);
 */
export async function measureHotPaths(options: HarnessOptions): Promise<HotPathComparison[]> {
  const document = {
    client_id: DOCUMENT_URL,
    client_name: "Example app",
    redirect_uris: ["https://app.example.com/callback"],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
    scope: "profile email",
  };
  const documentStore = createMemoryStore();
  const documents = createOAuthClientRegistry(documentStore, {
    clientIdMetadataDocuments: { accountId: "cimd", fetchClientMetadata: async () => document },
  });
  const stored = await documents.create("acct", {
    client_name: "Stored",
    grant_types: ["authorization_code"],
    response_types: ["code"],
    redirect_uris: ["https://app.example.com/callback"],
    scopes: [],
    token_endpoint_auth_method: "none",
  });
  if ((await documents.resolveClient(DOCUMENT_URL))?.client_id !== DOCUMENT_URL) throw new Error("the metadata document client did not resolve");
  const resolveCosts = await interleave(
    {
      ours: { run: () => documents.resolveClient(DOCUMENT_URL) },
      baseline: { run: () => documents.resolveClient(stored.client_id) },
    },
    options,
  );

  let ms = Date.UTC(2026, 0, 1);
  const now = () => new Date(ms);
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" };
  const assertions = createOAuthClientRegistry(createMemoryStore(), { now });
  const client = await assertions.create("acct", {
    client_name: "Signer",
    grant_types: ["authorization_code"],
    response_types: ["code"],
    redirect_uris: ["https://app.example.com/callback"],
    scopes: [],
    token_endpoint_auth_method: "private_key_jwt",
    jwks: { keys: [jwk] },
  });
  const sign = () => {
    const iat = Math.floor(ms / 1000);
    return new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setIssuer(client.client_id)
      .setSubject(client.client_id)
      .setAudience(AUDIENCE)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 60)
      .sign(privateKey);
  };
  let prepared: string[] = [];
  const setup = async (n: number) => {
    // Past the lifetime of the previous batch, so single-use records of one batch at most are live.
    ms += 120_000;
    prepared = await Promise.all(Array.from({ length: n }, sign));
  };
  const ours: Workload = {
    maxBatch: BATCH,
    setup,
    run: async (i) => {
      if ((await assertions.authenticateAssertion(prepared[i]!, { audience: AUDIENCE })) === null) throw new Error("a valid assertion was refused");
    },
  };
  const baseline: Workload = {
    maxBatch: BATCH,
    setup,
    run: (i) => jwtVerify(prepared[i]!, publicKey, { audience: AUDIENCE, algorithms: ["ES256"], currentDate: now(), requiredClaims: ["exp"] }),
  };
  await setup(1);
  await ours.run(0);
  const assertionCosts = await interleave({ ours, baseline }, options);

  return [
    {
      name: "resolveClient: metadata-document client, document unchanged, vs a stored id",
      ours: "resolveClient(document URL), the fetcher returning the same document",
      baseline: "resolveClient(stored client id)",
      costs: resolveCosts,
      target: 0.5,
    },
    {
      name: "authenticateAssertion vs jose jwtVerify alone",
      ours: "authenticateAssertion, ES256, stored jwks, fresh jti: client lookup, signature (key imported once per key set), claims, single use in the memory store, wire form",
      baseline: "jose jwtVerify with the same public key as a CryptoKey (signature and claims only)",
      costs: assertionCosts,
      target: 0.8,
    },
  ];
}
