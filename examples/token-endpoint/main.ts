/**
 * Runs the example authorization server with one confidential and one
 * public client, and logs the registry's audit events.
 *
 *   npx tsx examples/token-endpoint/main.ts [port]
 */
import { createMemoryStore } from "../../adapters/memory.js";
import { createOAuthClientRegistry } from "../../src/index.js";
import { startTokenEndpoint } from "./server.js";

const port = Number(process.argv[2] ?? 9090);
const registry = createOAuthClientRegistry(createMemoryStore(), {
  scopeCatalog: ["notes.read", "notes.write"],
  // Retire a rotated secret by itself after a day, even if nobody deletes it.
  rotatedSecretTtlMs: 24 * 60 * 60 * 1000,
  onEvent: (event) => console.log("[audit]", JSON.stringify(event)),
});

const confidential = await registry.create("demo-account", {
  client_name: "Demo web app",
  grant_types: ["authorization_code", "refresh_token"],
  response_types: ["code"],
  redirect_uris: ["http://127.0.0.1/callback"],
  scopes: ["notes.read", "profile"],
  token_endpoint_auth_method: "client_secret_basic",
});
const native = await registry.create("demo-account", {
  client_name: "Demo native app",
  grant_types: ["authorization_code", "refresh_token"],
  response_types: ["code"],
  redirect_uris: ["http://127.0.0.1/callback"],
  scopes: ["notes.read"],
  token_endpoint_auth_method: "none",
});

const endpoint = await startTokenEndpoint({ registry, port });
console.log(`issuer        ${endpoint.issuer}`);
console.log(`metadata      ${endpoint.issuer}/.well-known/oauth-authorization-server`);
console.log(`confidential  ${confidential.client_id} (client_secret_basic)`);
// The registry returns a secret only in the create (and rotate) response: this is the one chance to show it.
console.log(`  secret      ${confidential.client_secret}`);
console.log(`public        ${native.client_id} (none, PKCE required)`);
console.log("redirect URI  http://127.0.0.1:<any port>/callback");

const stop = () => {
  void endpoint.close().then(() => process.exit(0));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
