// Node, Bun and Deno get the pinned-socket fetcher (the "node" condition):
// it only protects if the runtime's node:https honours the `lookup` option.
// A name that resolves nowhere (pinned.invalid) is "resolved" by the
// injected lookup to a local TLS server; the fetch reaches it only if the
// socket connected to the address the fetcher checked.
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import { createSafeFetcher } from "oauth-client-registry/remote";

const cert = readFileSync("pinned-cert.pem", "utf8");
const server = createServer({ cert, key: readFileSync("pinned-key.pem", "utf8") }, (request, response) => {
  response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ host: request.headers.host }));
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const { port } = server.address();
const lookups = [];
const fetcher = createSafeFetcher({
  ca: cert,
  // Loopback is allowed here only because the test server lives there.
  isAllowedAddress: (address) => address === "127.0.0.1",
  lookup: async (hostname) => {
    lookups.push(hostname);
    return [{ address: "127.0.0.1", family: 4 }];
  },
});
const problems = [];
try {
  const { value } = await fetcher.fetchJson(`https://pinned.invalid:${port}/doc.json`);
  if (value.host !== `pinned.invalid:${port}`) problems.push(`unexpected answer ${JSON.stringify(value)}`);
} catch (error) {
  problems.push(`the pinned fetch failed: ${error.reason ?? ""} ${error.message} ${error.cause?.code ?? ""}`);
}
if (lookups.join() !== "pinned.invalid") problems.push(`lookups: ${JSON.stringify(lookups)}`);
server.close();
console.log(JSON.stringify({ problems }));
