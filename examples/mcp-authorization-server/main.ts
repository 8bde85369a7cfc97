/**
 * Runs the example MCP authorization server with one pre-registered public
 * client, and logs the registry's audit events.
 *
 *   npx tsx examples/mcp-authorization-server/main.ts [port]
 */
import { createMemoryStore } from "../../adapters/memory.js";
import { createOAuthClientRegistry } from "../../src/index.js";
import { startMcpAuthorizationServer } from "./server.js";

const port = Number(process.argv[2] ?? 9091);
const registry = createOAuthClientRegistry(createMemoryStore(), {
  scopeCatalog: ["notes.read"],
  onEvent: (event) => console.log("[audit]", JSON.stringify(event)),
});

const preRegistered = await registry.create("demo-account", {
  client_name: "Demo MCP client",
  grant_types: ["authorization_code"],
  response_types: ["code"],
  redirect_uris: ["http://127.0.0.1/callback"],
  scopes: ["notes.read"],
  token_endpoint_auth_method: "none",
});

const running = await startMcpAuthorizationServer({ registry, scopes: ["notes.read"], port });
console.log(`issuer         ${running.issuer}`);
console.log(`AS metadata    ${running.issuer}/.well-known/oauth-authorization-server`);
console.log(`MCP endpoint   ${running.mcpUrl}`);
console.log(`pre-registered ${preRegistered.client_id} (none, PKCE required)`);
console.log("redirect URI   http://127.0.0.1:<any port>/callback");

const stop = () => {
  void running.close().then(() => process.exit(0));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
