import { describe, expect, it } from "vitest";
import {
  checkRedirectUri,
  checkWebPageUrl,
  hostOf,
  isCorsOriginAllowed,
  isLoopbackHost,
  normalizeOrigin,
} from "../src/rules/uris.js";

const limits = { maxUriLength: 2048 };

const redirect = (uri: string, l = limits) => checkRedirectUri(uri, l);
const webPage = (uri: string, l = limits) => checkWebPageUrl(uri, l);
const origin = (raw: string, l = limits) => normalizeOrigin(raw, l);

describe("redirect URIs (docs/api.md, URI rules)", () => {
  describe("https is accepted", () => {
    it.each([
      "https://app.example.com/cb",
      "https://app.example.com/cb?state=1&x=y",
      "https://app.example.com:8443/oauth/callback",
      "HTTPS://App.Example.com/cb",
    ])("accepts %s", (uri) => {
      expect(redirect(uri)).toBeNull();
    });
  });

  describe("http is accepted only on loopback hosts (localhost, 127.0.0.1, [::1])", () => {
    it.each([
      "http://localhost/cb",
      "http://localhost:3000/cb",
      "http://127.0.0.1/cb",
      "http://127.0.0.1:8080/callback",
      "http://[::1]/cb",
      "http://[::1]:49152/cb",
      "http://LOCALHOST:3000/cb",
    ])("accepts %s", (uri) => {
      expect(redirect(uri)).toBeNull();
    });

    it.each([
      "http://example.com/cb",
      "http://app.example.com:8080/cb",
      "http://localhost.example.com/cb",
      "http://127.0.0.2/cb",
      "http://10.0.0.1/cb",
      "http://[::2]/cb",
    ])("refuses %s", (uri) => {
      expect(redirect(uri)).toMatch(/must use https/);
    });
  });

  describe("fragments are refused", () => {
    it.each(["https://app.example.com/cb#section", "https://app.example.com/cb#", "com.example.app:/cb#x"])(
      "refuses %s",
      (uri) => {
        expect(redirect(uri)).toBe("must not contain a fragment");
      },
    );
  });

  describe("user information is refused", () => {
    it.each([
      "https://user@app.example.com/cb",
      "https://user:pass@app.example.com/cb",
      "https://:pass@app.example.com/cb",
      "http://user@localhost:3000/cb",
      "com.example.app://user@host/cb",
    ])("refuses %s", (uri) => {
      expect(redirect(uri)).toBe("must not contain user information");
    });

    it.each(["https://@app.example.com/cb", "https://:@app.example.com/cb"])(
      "refuses an empty userinfo in %s",
      (uri) => {
        expect(redirect(uri)).toBe("must not contain user information");
      },
    );
  });

  describe("wildcards are refused anywhere", () => {
    it.each([
      "https://*.example.com/cb",
      "https://app.example.com/*",
      "https://app.example.com/cb?x=*",
      "http://localhost:3000/*",
      "com.example.app:/*",
    ])("refuses %s", (uri) => {
      expect(redirect(uri)).toBe("must not contain a wildcard");
    });
  });

  describe("private-use schemes in reverse-domain form are accepted for native apps", () => {
    it.each(["com.example.app:/cb", "com.example.app:/oauth2redirect", "com.example.app://cb", "io.my-app.ios:/cb"])(
      "accepts %s",
      (uri) => {
        expect(redirect(uri)).toBeNull();
      },
    );

    it.each(["myapp://cb", "myapp:/cb", "custom:cb", "ftp://example.com/cb", "ws://localhost/cb"])(
      "refuses the non reverse-domain scheme of %s",
      (uri) => {
        expect(redirect(uri)).toMatch(/reverse-domain form/);
      },
    );
  });

  describe("javascript, data, file, vbscript, about and blob schemes are always refused", () => {
    it.each([
      ["javascript:alert(1)", "javascript"],
      ["JavaScript:alert(1)", "javascript"],
      ["JAVASCRIPT://example.com/%0aalert(1)", "javascript"],
      ["data:text/html,<script>alert(1)</script>", "data"],
      ["DATA:text/plain,hi", "data"],
      ["file:///etc/passwd", "file"],
      ["vbscript:msgbox(1)", "vbscript"],
      ["about:blank", "about"],
      ["blob:https://app.example.com/5d2b6b0a", "blob"],
    ])("refuses %s", (uri, scheme) => {
      expect(redirect(uri)).toBe(`the ${scheme}: scheme is not allowed`);
    });
  });

  describe("relative URIs are refused", () => {
    it.each(["/cb", "cb", "//app.example.com/cb", "?code=1", "../cb"])("refuses %s", (uri) => {
      expect(redirect(uri)).toBe("must be an absolute URI with a scheme");
    });

    it("refuses the empty string", () => {
      expect(redirect("")).toBe("must not be empty");
    });
  });

  describe("whitespace and control characters are refused", () => {
    it.each([
      [" https://app.example.com/cb", "leading space"],
      ["https://app.example.com/cb ", "trailing space"],
      ["https://app.example.com/c b", "inner space"],
      ["https://app.example.com/\tcb", "tab inside"],
      ["https://app.example.com/\ncb", "newline inside"],
      ["https://app.exa\rmple.com/cb", "carriage return inside"],
      ["https://app.example.com/cb\u0000", "NUL"],
      ["https://app.example.com/cb\u007f", "DEL"],
      ["https://app.example.com/cb\u0085", "C1 control"],
    ])("refuses %j (%s)", (uri) => {
      expect(redirect(uri)).toBe("must not contain whitespace or control characters");
    });
  });

  describe("length limit (2048 by default, configurable)", () => {
    const base = "https://app.example.com/";
    it("accepts a URI of exactly 2048 characters", () => {
      const uri = base + "a".repeat(2048 - base.length);
      expect(uri).toHaveLength(2048);
      expect(redirect(uri)).toBeNull();
    });

    it("refuses a URI of 2049 characters", () => {
      const uri = base + "a".repeat(2049 - base.length);
      expect(redirect(uri)).toBe("must be at most 2048 characters");
    });

    it("applies a custom limit", () => {
      const custom = { maxUriLength: 30 };
      expect(redirect("https://app.example.com/abcdef", custom)).toBeNull(); // 30 chars
      expect(redirect("https://app.example.com/abcdefg", custom)).toBe("must be at most 30 characters");
    });
  });
});

describe("CORS origins: scheme + host + optional port; the canonical form used to compare them", () => {
  describe("normalization", () => {
    it.each([
      ["https://app.example.com", "https://app.example.com"],
      ["https://App.EXAMPLE.com", "https://app.example.com"],
      ["HTTPS://App.Example.com/", "https://app.example.com"],
      ["https://app.example.com/", "https://app.example.com"],
      ["https://app.example.com:443", "https://app.example.com"],
      ["http://app.example.com:80/", "http://app.example.com"],
      ["https://app.example.com:8443", "https://app.example.com:8443"],
      ["http://localhost:3000/", "http://localhost:3000"],
      ["http://[::1]:3000", "http://[::1]:3000"],
    ])("%s → %s", (raw, expected) => {
      expect(origin(raw)).toEqual({ origin: expected });
    });
  });

  describe("refusals", () => {
    it.each([
      ["https://app.example.com/path", /no path, query or fragment/],
      ["https://app.example.com/path/", /no path, query or fragment/],
      ["https://app.example.com?x=1", /no path, query or fragment/],
      ["https://app.example.com/?x=1", /no path, query or fragment/],
      ["https://app.example.com#frag", /no path, query or fragment/],
      ["https://app.example.com/#", /no path, query or fragment/],
      ["https://user@app.example.com", /user information/],
      ["https://user:pw@app.example.com", /user information/],
      ["https://*.example.com", /wildcard/],
      ["*", /absolute URI/],
      ["ftp://app.example.com", /https or http scheme/],
      ["ws://app.example.com", /https or http scheme/],
      ["com.example.app://host", /https or http scheme/],
      ["javascript:alert(1)", /javascript: scheme/],
      ["https://", /valid absolute URI/],
      ["http://:80", /valid absolute URI/],
      ["app.example.com", /absolute URI/],
      [" https://app.example.com", /whitespace/],
    ])("refuses %s", (raw, message) => {
      const result = origin(raw);
      expect(result).not.toHaveProperty("origin");
      expect("error" in result && result.error).toMatch(message);
    });

    it.each(["https://app.example.com\\path", "https://app.example.com\\"])(
      "refuses a path introduced by a backslash in %s",
      (raw) => {
        expect(origin(raw)).toHaveProperty("error");
      },
    );
  });

  it("applies the length limit", () => {
    expect(origin("https://app.example.com", { maxUriLength: 10 })).toEqual({
      error: "must be at most 10 characters",
    });
  });
});

describe("CORS origin checks compare canonically, since origins are stored as sent", () => {
  const client = { allowed_cors_origins: ["https://App.Example.com/", "http://localhost:3000"] };

  it.each(["https://app.example.com", "https://APP.example.com", "https://app.example.com:443", "http://localhost:3000"])(
    "%s is allowed",
    (presented) => {
      expect(isCorsOriginAllowed(client, presented)).toBe(true);
    },
  );

  it.each([
    "https://evil.example.com",
    "http://app.example.com",
    "https://app.example.com:8443",
    "http://localhost:3001",
    "https://app.example.com/path",
    "null",
    "",
  ])("%j is refused", (presented) => {
    expect(isCorsOriginAllowed(client, presented)).toBe(false);
  });

  it("refuses non-string input and clients without origins instead of throwing", () => {
    expect(isCorsOriginAllowed(client, 42 as unknown as string)).toBe(false);
    expect(isCorsOriginAllowed({ allowed_cors_origins: [] }, "https://app.example.com")).toBe(false);
    expect(isCorsOriginAllowed({} as { allowed_cors_origins: string[] }, "https://app.example.com")).toBe(false);
  });
});

describe("web page URLs: client_uri, logo_uri, policy_uri, tos_uri (https, or http on loopback)", () => {
  it.each([
    "https://example.com",
    "https://example.com/logo.png",
    "https://example.com:8443/privacy?lang=en",
    "http://localhost:3000/tos",
    "http://127.0.0.1/logo.png",
    "http://[::1]:8080/",
  ])("accepts %s", (uri) => {
    expect(webPage(uri)).toBeNull();
  });

  it.each(["http://example.com/logo.png", "http://127.0.0.2/", "http://intranet/tos"])(
    "refuses http on a non-loopback host: %s",
    (uri) => {
      expect(webPage(uri)).toMatch(/must use https/);
    },
  );

  it.each(["ftp://example.com/logo.png", "com.example.app:/home", "mailto:admin@example.com", "ws://localhost/"])(
    "refuses the non-web scheme of %s",
    (uri) => {
      expect(webPage(uri)).toMatch(/must be an https URL/);
    },
  );

  it.each([
    ["javascript:alert(1)", /javascript: scheme/],
    ["data:image/png;base64,AAAA", /data: scheme/],
    ["/logo.png", /absolute URI/],
    ["https://user@example.com/", /user information/],
    ["https://example.com/ logo.png", /whitespace/],
  ])("refuses %s", (uri, message) => {
    expect(webPage(uri)).toMatch(message);
  });

  it("applies the length limit", () => {
    expect(webPage("https://example.com/" + "a".repeat(2048))).toBe("must be at most 2048 characters");
    expect(webPage("https://example.com/abc", { maxUriLength: 20 })).toBe("must be at most 20 characters");
  });
});

describe("loopback hosts and host extraction", () => {
  it("recognizes exactly localhost, 127.0.0.1 and [::1] as loopback", () => {
    expect(["localhost", "LocalHost", "127.0.0.1", "[::1]"].map(isLoopbackHost)).toEqual([true, true, true, true]);
    expect(["127.0.0.2", "::1", "localhost.example.com", "example.com"].map(isLoopbackHost)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it("hostOf returns the lower-cased host without port or path", () => {
    expect(hostOf("https://App.Example.COM:8443/a/b?c")).toBe("app.example.com");
  });
});

describe("URIs are ASCII (RFC 3986); anything else is refused with the form to send instead", () => {
  const check = {
    redirect: (uri: string) => redirect(uri),
    webPage: (uri: string) => webPage(uri),
    origin: (uri: string) => {
      const result = origin(uri);
      return "error" in result ? result.error : null;
    },
  };

  it.each([
    ["redirect", "https://app.example.com/café", "https://app.example.com/caf%C3%A9"],
    ["redirect", "https://bücher.example:8443/cb?q=ü", "https://xn--bcher-kva.example:8443/cb?q=%C3%BC"],
    ["redirect", "com.example.app:/cb/🚀", "com.example.app:/cb/%F0%9F%9A%80"],
    ["webPage", "https://例え.テスト/logo.png", "https://xn--r8jz45g.xn--zckzah/logo.png"],
    ["webPage", "https://cdn.example.com/logo-🚀.png", "https://cdn.example.com/logo-%F0%9F%9A%80.png"],
    ["origin", "https://bücher.example", "https://xn--bcher-kva.example"],
  ] as const)("%s refuses %s, suggesting %s", (kind, uri, ascii) => {
    expect(check[kind](uri)).toBe(
      `must contain only ASCII characters (RFC 3986): send ${JSON.stringify(ascii)} (non-ASCII host names in punycode, other characters percent-encoded)`,
    );
    expect(check[kind](ascii)).toBeNull();
  });

  it.each([
    ["https://app.example.com/\u202ecb", "https://app.example.com/%E2%80%AEcb"],
    ["https://app.example.com/cb?name=a\u200bb", "https://app.example.com/cb?name=a%E2%80%8Bb"],
    ["https://app.example.com/\u2066cb\u2069", "https://app.example.com/%E2%81%A6cb%E2%81%A9"],
  ])("bidi and invisible characters can only appear percent-encoded (%j)", (uri, ascii) => {
    for (const kind of ["redirect", "webPage"] as const) {
      expect(check[kind](uri)).toContain(`send ${JSON.stringify(ascii)}`);
      expect(check[kind](ascii)).toBeNull();
    }
  });

  it("a bidi control in a host is refused", () => {
    expect(redirect("https://app\u202e.example.com/cb")).not.toBeNull();
    expect(webPage("https://\u200bexample.com/")).not.toBeNull();
  });

  it("the other rules come first, so the suggested form is accepted", () => {
    expect(redirect("https://bücher.example/cb#frag")).toBe("must not contain a fragment");
    expect(redirect("http://bücher.example/cb")).toMatch(/must use https/);
    expect(origin("https://bücher.example/path")).toEqual({ error: expect.stringMatching(/scheme, host and optional port only/) });
  });

  it("a suggestion that would break the length limit is not made", () => {
    const uri = "https://app.example.com/" + "é".repeat(1000);
    expect(redirect(uri)).toBe(
      "must contain only ASCII characters (RFC 3986); percent-encoded, this URI would be longer than 2048 characters",
    );
  });

  it.each([
    ["https://app.example.com/\ud800", "U+D800 at index 24"],
    ["https://\udfff.example", "U+DFFF at index 8"],
  ])("a lone surrogate is refused as malformed text: %j", (uri, where) => {
    const expected = `must be well-formed Unicode: it contains a lone UTF-16 surrogate (${where}), which no database can store as text`;
    expect(redirect(uri)).toBe(expected);
    expect(webPage(uri)).toBe(expected);
    expect(origin(uri)).toEqual({ error: expected });
  });
});
