/**
 * One server of the registration row, in a process of its own (forked by
 * bench/registration.ts), listening on 127.0.0.1 at a free port that it
 * reports over IPC:
 *
 *   ours           `createRegistrationHandler` on a memory registry behind
 *                  `createNodeRequestListener` on node:http, as docs/registration.md
 *                  shows it: open registration (no initial access token),
 *                  no rate limit, no client cap (both are off unless given);
 *   oidc-provider  node-oidc-provider 9 with `features.registration` on, no
 *                  initial access token, its default in-memory adapter, its
 *                  own node:http listener (`provider.callback()`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";
import { createMemoryStore } from "../adapters/memory.js";
import { createNodeRequestListener } from "../src/http/index.js";
import { createOAuthClientRegistry } from "../src/index.js";
import { createRegistrationHandler } from "../src/registration/index.js";

/** What each server says once it listens. */
export interface RegistrationServerReady {
  port: number;
  /** The path a registration is POSTed to. */
  path: string;
}

const side = process.argv[2];
if (side !== "ours" && side !== "oidc-provider") throw new Error("usage: registration-server.ts ours|oidc-provider");

// The issuer (and our baseUrl) holds the port, which is known once listening.
let listener: (request: IncomingMessage, response: ServerResponse) => void = (_request, response) => {
  response.writeHead(503).end();
};
const server = createServer((request, response) => listener(request, response));
server.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const { port } = server.address() as AddressInfo;
const origin = `http://127.0.0.1:${port}`;

let path: string;
if (side === "ours") {
  const registry = createOAuthClientRegistry(createMemoryStore());
  const register = createRegistrationHandler(registry, { accountId: "registered", baseUrl: origin });
  const bridge = createNodeRequestListener(register);
  listener = (request, response) => void bridge(request, response);
  path = "/register";
} else {
  const provider = new Provider(origin, {
    features: {
      registration: { enabled: true, initialAccessToken: false },
      // The login pages are not part of the row; off, like everything else not asked for.
      devInteractions: { enabled: false },
    },
  });
  listener = provider.callback();
  path = "/reg";
}

const ready: RegistrationServerReady = { port, path };
process.send!(ready);
process.on("message", (message) => {
  if (message !== "exit") return;
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
