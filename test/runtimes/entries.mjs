// Loads every runtime-neutral entry of the package by its public name and
// runs a memory-store round trip (create, authenticate, rotate, both
// secrets, delete the rotated one, the v4 handler), plus hashes made by
// node:crypto verified by whichever hashing this runtime got. Run as is by
// Node, Bun and Deno from a consumer directory (their own resolution of the
// package's "exports" and "imports" conditions), and bundled by esbuild
// with the workerd conditions for a Worker without nodejs_compat.
import * as main from "oauth-client-registry";
import * as memory from "oauth-client-registry/memory";
import * as http from "oauth-client-registry/http";
import * as registration from "oauth-client-registry/registration";
import * as testing from "oauth-client-registry/testing";
import * as d1 from "oauth-client-registry/d1";

// Made with node:crypto (createSecretHasher under Node): every runtime must verify them.
const NODE_HASHES = {
  sha256: ["cross-runtime secret", "sha256$a6d078318ef55502ee14eccf9c7f802a6ea920a67a84285ca28ee461f75b2fc5"],
  scrypt: ["cross-runtime secret", "scrypt$10$8$1$000102030405060708090a0b0c0d0e0f$6614416e03f15ce8b0c2f5c4d32f7c2cdda6f9f718f6be952552f08880ed6d62"],
};

export async function checkEntries() {
  const entries = { ".": main, "/memory": memory, "/http": http, "/registration": registration, "/testing": testing, "/d1": d1 };
  const exported = Object.fromEntries(Object.entries(entries).map(([name, module]) => [name, Object.keys(module).length]));
  const problems = [];
  for (const [name, count] of Object.entries(exported)) if (count === 0) problems.push(`${name} exports nothing`);
  for (const [name, value] of [
    ["createOAuthClientRegistry", main.createOAuthClientRegistry],
    ["createMemoryStore", memory.createMemoryStore],
    ["createFetchHandler", http.createFetchHandler],
    ["createNodeRequestListener", http.createNodeRequestListener],
    ["createRegistrationHandler", registration.createRegistrationHandler],
    ["runStoreConformanceSuite", testing.runStoreConformanceSuite],
    ["createD1Store", d1.createD1Store],
  ]) {
    if (typeof value !== "function") problems.push(`${name} is not a function`);
  }

  const registry = main.createOAuthClientRegistry(memory.createMemoryStore());
  const client = await registry.create("acct", {
    client_name: "Runtime",
    grant_types: ["authorization_code"],
    response_types: ["code"],
    redirect_uris: ["https://runtime.example.com/cb"],
    scopes: ["profile"],
    token_endpoint_auth_method: "client_secret_basic",
  });
  const first = client.client_secret;
  const steps = {};
  steps.authenticate = (await registry.authenticate(client.client_id, first))?.matched ?? null;
  const { client_secret: second } = await registry.rotateSecret("acct", client.client_id);
  steps.rotatedOld = (await registry.authenticate(client.client_id, first))?.matched ?? null;
  steps.rotatedNew = (await registry.authenticate(client.client_id, second))?.matched ?? null;
  steps.wrong = await registry.authenticate(client.client_id, `${second}x`);
  await registry.deleteRotatedSecret("acct", client.client_id);
  steps.afterDelete = await registry.authenticate(client.client_id, first);
  const handler = http.createFetchHandler(registry, { authorize: http.bearerTokenAuthorize("runtime-token") });
  const response = await handler(
    new Request(`http://localhost/client/v4/accounts/acct/oauth_clients/${client.client_id}`, { headers: { authorization: "Bearer runtime-token" } }),
  );
  steps.httpGet = response.status;
  const hasher = main.createSecretHasher();
  steps.nodeSha256 = await hasher.verify(...NODE_HASHES.sha256);
  steps.nodeScrypt = await hasher.verify(...NODE_HASHES.scrypt);
  const expected = {
    authenticate: "current", rotatedOld: "rotated", rotatedNew: "current", wrong: null, afterDelete: null, httpGet: 200, nodeSha256: true, nodeScrypt: true,
  };
  for (const [step, value] of Object.entries(expected)) {
    if (steps[step] !== value) problems.push(`${step}: expected ${JSON.stringify(value)}, got ${JSON.stringify(steps[step])}`);
  }
  return { exported, steps, problems };
}
