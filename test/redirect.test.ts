import { describe, expect, it } from "vitest";
import { isRedirectUriAllowed } from "../src/index.js";

const client = {
  redirect_uris: [
    "https://app.example.com/callback",
    "https://app.example.com/cb?tenant=a",
    "com.example.app:/oauth2redirect",
    "http://127.0.0.1/native",
    "http://[::1]:8080/v6?x=1",
    "http://localhost/dev",
  ],
};

describe("isRedirectUriAllowed: exact match of registered redirect URIs", () => {
  it.each([
    "https://app.example.com/callback",
    "https://app.example.com/cb?tenant=a",
    "com.example.app:/oauth2redirect",
    "http://127.0.0.1/native",
    "http://[::1]:8080/v6?x=1",
    "http://localhost/dev",
  ])("accepts the registered URI %s", (uri) => {
    expect(isRedirectUriAllowed(client, uri)).toBe(true);
  });

  it.each([
    ["a prefix of a registered URI", "https://app.example.com/call"],
    ["a longer path under a registered URI", "https://app.example.com/callback/extra"],
    ["a sibling path", "https://app.example.com/callback2"],
    ["an appended query", "https://app.example.com/callback?next=/admin"],
    ["a changed query value", "https://app.example.com/cb?tenant=b"],
    ["a dropped query", "https://app.example.com/cb"],
    ["an added fragment", "https://app.example.com/callback#frag"],
    ["a trailing slash", "https://app.example.com/callback/"],
    ["an upper-cased path", "https://app.example.com/Callback"],
    ["an upper-cased host", "https://APP.example.com/callback"],
    ["an upper-cased scheme", "HTTPS://app.example.com/callback"],
    ["http instead of https", "http://app.example.com/callback"],
    ["an explicit default port", "https://app.example.com:443/callback"],
    ["a port on a non-loopback host", "https://app.example.com:8443/callback"],
    ["a subdomain", "https://evil.app.example.com/callback"],
    ["a suffix domain", "https://app.example.com.evil.com/callback"],
    ["userinfo in front of the host", "https://app.example.com@evil.com/callback"],
    ["dot segments", "https://app.example.com/x/../callback"],
    ["percent-encoding of a plain character", "https://app.example.com/c%61llback"],
    ["a wildcard", "https://*.example.com/callback"],
    ["surrounding whitespace", " https://app.example.com/callback"],
    ["a private-use URI with another path", "com.example.app:/other"],
    ["the empty string", ""],
  ])("refuses %s", (_rule, uri) => {
    expect(isRedirectUriAllowed(client, uri)).toBe(false);
  });
});

describe("isRedirectUriAllowed: loopback redirect URIs accept any port (RFC 8252 §7.3)", () => {
  it.each([
    ["a port on a registered portless 127.0.0.1 URI", "http://127.0.0.1:51004/native"],
    ["the highest port", "http://127.0.0.1:65535/native"],
    ["another port than the registered [::1] one", "http://[::1]:49152/v6?x=1"],
    ["no port for a registered [::1] URI with a port", "http://[::1]/v6?x=1"],
    ["a port on localhost", "http://localhost:3000/dev"],
  ])("accepts %s", (_rule, uri) => {
    expect(isRedirectUriAllowed(client, uri)).toBe(true);
  });

  it.each([
    ["another path", "http://127.0.0.1:51004/other"],
    ["a path prefix", "http://127.0.0.1:51004/nat"],
    ["an appended query", "http://127.0.0.1:51004/native?code=x"],
    ["a different query", "http://[::1]:49152/v6?x=2"],
    ["a fragment", "http://127.0.0.1:51004/native#f"],
    ["another loopback host (127.0.0.1 registered, localhost presented)", "http://localhost:51004/native"],
    ["another loopback host (localhost registered, 127.0.0.1 presented)", "http://127.0.0.1:3000/dev"],
    ["another address in 127/8", "http://127.0.0.2:51004/native"],
    ["https instead of the registered http", "https://127.0.0.1:51004/native"],
    ["an upper-cased host", "http://LOCALHOST:3000/dev"],
    ["port 0", "http://127.0.0.1:0/native"],
    ["a port above 65535", "http://127.0.0.1:65536/native"],
    ["a port with leading zeros", "http://127.0.0.1:0080/native"],
    ["an empty port", "http://127.0.0.1:/native"],
    ["userinfo after the port", "http://127.0.0.1:80@evil.com/native"],
    ["userinfo before the host", "http://evil@127.0.0.1:80/native"],
  ])("refuses %s", (_rule, uri) => {
    expect(isRedirectUriAllowed(client, uri)).toBe(false);
  });

  it("does not extend the port exception to https loopback URIs", () => {
    const https = { redirect_uris: ["https://127.0.0.1/cb"] };
    expect(isRedirectUriAllowed(https, "https://127.0.0.1/cb")).toBe(true);
    expect(isRedirectUriAllowed(https, "https://127.0.0.1:8443/cb")).toBe(false);
  });

  it("does not let a loopback registration match a non-loopback host", () => {
    expect(isRedirectUriAllowed({ redirect_uris: ["http://127.0.0.1/cb"] }, "http://example.com:80/cb")).toBe(false);
  });
});

describe("isRedirectUriAllowed: malformed input is refused, not thrown", () => {
  it("refuses a non-string URI and a client without redirect URIs", () => {
    expect(isRedirectUriAllowed(client, undefined as unknown as string)).toBe(false);
    expect(isRedirectUriAllowed(client, ["https://app.example.com/callback"] as unknown as string)).toBe(false);
    expect(isRedirectUriAllowed({ redirect_uris: [] }, "https://app.example.com/callback")).toBe(false);
    expect(isRedirectUriAllowed({} as { redirect_uris: string[] }, "http://127.0.0.1:1/native")).toBe(false);
  });
});
