/**
 * One canonical form of a metadata-document URL (issue 20, item 4): a client
 * id URL is compared character for character, so an id that a URL parser
 * reads as another host or path, or that spells its URL another way, is
 * refused before any fetcher — the default one or an injected one — is
 * called, with the canonical form in the message when there is one.
 */
import { describe, expect, it } from "vitest";
import { ClientMetadataError, metadataUrlProblem } from "../src/index.js";
import { registryFixture } from "./helpers/registry.js";

function injectedFixture() {
  const fetched: string[] = [];
  const fixture = registryFixture({
    clientIdMetadataDocuments: {
      accountId: "acct_cimd",
      fetchClientMetadata: async (url) => {
        fetched.push(url);
        return { client_id: url, redirect_uris: ["https://evil.example/cb"] };
      },
    },
  });
  return { ...fixture, fetched };
}

describe("metadata document URLs: refused unless in their one canonical form", () => {
  it.each([
    // [id, what the message says, the canonical form shown (null: none exists)]
    ["https:///evil.example/c.json", "authority is empty", "https://evil.example/c.json"],
    ["https:////evil.example/c.json", "authority is empty", "https://evil.example/c.json"],
    ["https:///c.json", "authority is empty", null],
    ["https://app.example.com\\@evil.example/c.json", "backslash", "https://app.example.com/@evil.example/c.json"],
    ["https://app.example.com/a\\b.json", "backslash", "https://app.example.com/a/b.json"],
    ["https://app.example.com/c\t.json", "whitespace", "https://app.example.com/c.json"],
    ["https://app.example.com/c\n.json", "whitespace", "https://app.example.com/c.json"],
    ["https://app.example.com/%41pp/c.json", 'unreserved character "A"', "https://app.example.com/App/c.json"],
    ["https://app.example.com/%7Euser/c.json", 'unreserved character "~"', "https://app.example.com/~user/c.json"],
    ["https://app.example.com/%7euser/c.json", 'unreserved character "~"', "https://app.example.com/~user/c.json"],
    ["https://app.example.com/a%2fb.json", "upper-case hex", "https://app.example.com/a%2Fb.json"],
    ["https://app.example.com/100%.json", "percent-encoding", null],
    ["HTTPS://app.example.com/c.json", "scheme in lower case", "https://app.example.com/c.json"],
    ["Https://app.example.com/c.json", "scheme in lower case", "https://app.example.com/c.json"],
    ["https://App.Example.com/c.json", "lower-case host", "https://app.example.com/c.json"],
    ["https://app.example.com:443/c.json", "default port", "https://app.example.com/c.json"],
    ["https://app.example.com:0443/c.json", "leading zeros", "https://app.example.com/c.json"],
    ["https://app.example.com:/c.json", "empty port", "https://app.example.com/c.json"],
    ["https://app.example.com./c.json", "dot", "https://app.example.com/c.json"],
    ["https://%61pp.example.com/c.json", "DNS name", "https://app.example.com/c.json"],
    ["https://app_1.example.com/c.json", "DNS name", null],
    ["https:app.example.com/c.json", "https:// followed by the host", "https://app.example.com/c.json"],
    ["https://0x7f.0.0.1/c.json", "canonical form", "https://127.0.0.1/c.json"],
    ["https://[::FFFF:7F00:1]/c.json", "lower-case host", "https://[::ffff:7f00:1]/c.json"],
    ["https://[0:0:0:0:0:0:0:1]/c.json", "canonical form", "https://[::1]/c.json"],
    ['https://app.example.com/a"b.json', "canonical form", "https://app.example.com/a%22b.json"],
  ])("%j is refused (%s), before any injected fetcher is called", async (id, why, canonical) => {
    const problem = metadataUrlProblem(id);
    expect(problem).toContain(why);
    if (canonical === null) expect(problem).not.toContain("canonical form is");
    else expect(problem).toContain(`the canonical form is ${JSON.stringify(canonical)}`);
    const { registry, fetched, store } = injectedFixture();
    const error = await registry.resolveClient(id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientMetadataError);
    expect((error as ClientMetadataError).issues).toEqual([{ path: "/client_id", message: `a client id URL ${problem}` }]);
    expect(fetched).toEqual([]);
    expect(await store.getById(id)).toBeNull();
    if (canonical !== null) expect(await store.getById(canonical)).toBeNull();
  });

  it("the canonical form a message shows is itself accepted", () => {
    for (const id of ["https:///evil.example/c.json", "https://App.Example.com:443/%7Ex/c.json", "https://app.example.com./c.json"]) {
      const shown = /the canonical form is (".*")$/.exec(metadataUrlProblem(id)!)![1]!;
      expect(metadataUrlProblem(JSON.parse(shown) as string)).toBeNull();
    }
  });

  it("refused with the default fetcher too: the check runs before any fetch", async () => {
    const { registry } = registryFixture({ clientIdMetadataDocuments: { accountId: "acct_cimd" } });
    const error = await registry.resolveClient("https:///evil.example/c.json").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientMetadataError);
    expect((error as ClientMetadataError).issues[0]!.message).toContain("authority is empty");
  });

  it.each([
    "https://app.example.com/oauth/client.json",
    "https://app.example.com:8443/client.json?v=2",
    "https://app.example.com/a%2Fb.json",
    "https://app.example.com/%C3%BC.json",
    "https://xn--bcher-kva.example/c.json",
    "https://203.0.113.7/c.json",
    "https://[2001:db8::1]/c.json",
  ])("accepts the canonical URL %s (IP literals in canonical form included: the fetcher's address policy judges them)", (id) => {
    expect(metadataUrlProblem(id)).toBeNull();
  });

  it("an accepted id is fetched exactly as sent", async () => {
    const { registry, fetched } = injectedFixture();
    await registry.resolveClient("https://app.example.com:8443/client.json?v=2").catch(() => null);
    expect(fetched).toEqual(["https://app.example.com:8443/client.json?v=2"]);
  });
});
