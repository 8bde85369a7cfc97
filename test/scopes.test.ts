import { describe, expect, it } from "vitest";
import type { GrantType, ResponseType } from "../src/fields.js";
import {
  DEFAULT_IDENTITY_SCOPES,
  checkOptionalScopes,
  isApiScope,
  normalizeScopes,
  toCatalog,
  type ScopeCatalog,
  type ScopeRules,
} from "../src/rules/scopes.js";

const CODE: ResponseType[] = ["code"];
const CODE_ID_TOKEN: ResponseType[] = ["code", "id_token"];
const AUTH_CODE: GrantType[] = ["authorization_code"];
const AUTH_CODE_REFRESH: GrantType[] = ["authorization_code", "refresh_token"];

const noCatalog: ScopeRules = { identityScopes: DEFAULT_IDENTITY_SCOPES };
const withCatalog = (catalog: ScopeCatalog): ScopeRules => ({ catalog, identityScopes: DEFAULT_IDENTITY_SCOPES });

function normalize(
  input: string[],
  options: { grants?: GrantType[]; responses?: ResponseType[]; rules?: ScopeRules } = {},
) {
  return normalizeScopes(input, options.grants ?? AUTH_CODE, options.responses ?? CODE, options.rules ?? noCatalog);
}

describe("scope normalization (docs/api.md, scope normalization)", () => {
  it("input order is kept", async () => {
    const result = await normalize(["email", "zone.read", "profile", "account.read"]);
    expect(result).toEqual({ scopes: ["email", "zone.read", "profile", "account.read"], issues: [] });
  });

  it("a duplicate is refused with an issue at its index, never dropped silently", async () => {
    const result = await normalize(["email", "zone.read", "profile", "email", "zone.read", "account.read"]);
    expect(result.issues).toEqual([
      { path: "/scopes/3", message: "duplicate of entry 0; send each scope once" },
      { path: "/scopes/4", message: "duplicate of entry 1; send each scope once" },
    ]);
  });

  it("an empty list stays empty when no protocol scope is due", async () => {
    expect(await normalize([])).toEqual({ scopes: [], issues: [] });
  });

  describe("rule 1: well-formed scope tokens", () => {
    it("a colon-delimited scope is refused, with the path of the offending entry", async () => {
      const result = await normalize(["profile", "account:read"]);
      expect(result.scopes).toEqual(["profile"]);
      expect(result.issues).toHaveLength(1);
      expect(result.issues[0]!.path).toBe("/scopes/1");
      expect(result.issues[0]!.message).toMatch(/colon-delimited scopes are not supported/);
      expect(result.issues[0]!.message).toContain('"account:read"');
      expect(result.issues[0]!.message).toContain('"account.read"');
    });

    it.each([
      ["", /must not be empty/],
      [" profile", /whitespace or control/],
      ["pro file", /whitespace or control/],
      ["zone.read\t", /whitespace or control/],
      ["zone\n.read", /whitespace or control/],
      ["zone.read\u0000", /whitespace or control/],
      ["zone.read\u007f", /whitespace or control/],
      ['pro"file', /must not contain "/],
      ["pro\\file", /must not contain "/],
    ])("refuses %j", async (scope, message) => {
      const result = await normalize([scope]);
      expect(result.scopes).toEqual([]);
      expect(result.issues).toEqual([{ path: "/scopes/0", message: expect.stringMatching(message) }]);
    });

    it("a scope of 128 characters is accepted, 129 refused", async () => {
      const ok = "zone." + "a".repeat(123);
      const tooLong = "zone." + "a".repeat(124);
      expect(ok).toHaveLength(128);
      const result = await normalize([ok, tooLong]);
      expect(result.scopes).toEqual([ok]);
      expect(result.issues).toEqual([{ path: "/scopes/1", message: "a scope must be at most 128 characters" }]);
    });

    it("a scope that is not well-formed Unicode is refused, in scopes and in optional scopes", async () => {
      const result = await normalize(["profile", "zone.read\ud800"]);
      expect(result.issues).toEqual([
        { path: "/scopes/1", message: expect.stringMatching(/^a scope must be well-formed Unicode: .*U\+D800 at index 9/) },
      ]);
      expect(checkOptionalScopes(["\udfff"], ["profile"]).issues).toEqual([
        { path: "/optional_scopes/0", message: expect.stringMatching(/^a scope must be well-formed Unicode/) },
      ]);
    });

    it("the length counts code points: 128 non-ASCII characters are not refused for length", async () => {
      const rules: ScopeRules = { identityScopes: ["é".repeat(128), "🚀".repeat(128), "🚀".repeat(129)] };
      const result = await normalize(["é".repeat(128), "🚀".repeat(128), "🚀".repeat(129)], { rules });
      expect(result.scopes).toEqual(["é".repeat(128), "🚀".repeat(128)]);
      expect(result.issues).toEqual([{ path: "/scopes/2", message: "a scope must be at most 128 characters" }]);
    });

    it("uses the path given by the caller", async () => {
      const result = await normalizeScopes(["a:b"], AUTH_CODE, CODE, noCatalog, "/patch/scopes");
      expect(result.issues.map((i) => i.path)).toEqual(["/patch/scopes/0"]);
    });
  });

  describe("rule 2: protocol scopes are managed", () => {
    it("openid is added when response_types contains id_token, asked for or not", async () => {
      expect((await normalize(["profile"], { responses: CODE_ID_TOKEN })).scopes).toEqual(["profile", "openid"]);
      expect((await normalize(["profile"], { responses: ["id_token"] })).scopes).toEqual(["profile", "openid"]);
      expect((await normalize(["profile"], { responses: ["token", "id_token"] })).scopes).toEqual(["profile", "openid"]);
    });

    it("openid is never added to a code client that did not ask for it", async () => {
      expect((await normalize(["profile"], { responses: CODE })).scopes).toEqual(["profile"]);
      expect((await normalize(["profile"], { responses: ["code", "token"] })).scopes).toEqual(["profile"]);
    });

    it("openid asked for is kept when response_types contains code (the OpenID Connect code flow), appended", async () => {
      expect(await normalize(["openid", "profile"], { responses: CODE })).toEqual({ scopes: ["profile", "openid"], issues: [] });
      expect(await normalize(["openid"], { responses: ["code", "token"] })).toEqual({ scopes: ["openid"], issues: [] });
    });

    it("openid asked for is removed when response_types has neither code nor id_token (token alone)", async () => {
      expect(await normalize(["openid", "profile"], { responses: ["token"] })).toEqual({ scopes: ["profile"], issues: [] });
    });

    it("OpenID is not a request for openid: refused, and nothing is kept for a code client", async () => {
      const result = await normalize(["OpenID"], { responses: CODE });
      expect(result.scopes).toEqual([]);
      expect(result.issues.map((i) => i.path)).toEqual(["/scopes/0"]);
    });

    it("offline_access is added iff grant_types contains refresh_token", async () => {
      expect((await normalize(["email"], { grants: AUTH_CODE_REFRESH })).scopes).toEqual(["email", "offline_access"]);
      expect((await normalize(["email"], { grants: AUTH_CODE })).scopes).toEqual(["email"]);
    });

    it("offline_access in the input is removed when refresh_token is absent", async () => {
      expect(await normalize(["offline_access", "email"], { grants: AUTH_CODE })).toEqual({
        scopes: ["email"],
        issues: [],
      });
    });

    it("the offline alias is never stored and maps to nothing without refresh_token", async () => {
      expect(await normalize(["offline", "email"], { grants: AUTH_CODE })).toEqual({ scopes: ["email"], issues: [] });
    });

    it("the offline alias becomes offline_access with refresh_token", async () => {
      expect(await normalize(["offline"], { grants: AUTH_CODE_REFRESH })).toEqual({
        scopes: ["offline_access"],
        issues: [],
      });
      const both = await normalize(["offline", "offline_access"], { grants: AUTH_CODE_REFRESH });
      expect(both.scopes).toEqual(["offline_access"]);
    });

    it("managed scopes are appended after the user scopes, openid then offline_access", async () => {
      const result = await normalize(["offline_access", "openid", "zone.read", "offline", "profile"], {
        grants: AUTH_CODE_REFRESH,
        responses: CODE_ID_TOKEN,
      });
      expect(result).toEqual({ scopes: ["zone.read", "profile", "openid", "offline_access"], issues: [] });
    });

    it("a kept openid and offline_access are appended in the same order as added ones", async () => {
      const result = await normalize(["offline_access", "openid", "zone.read"], { grants: AUTH_CODE_REFRESH, responses: CODE });
      expect(result).toEqual({ scopes: ["zone.read", "openid", "offline_access"], issues: [] });
    });

    it("managed scopes are added even to an empty input", async () => {
      const result = await normalize([], { grants: AUTH_CODE_REFRESH, responses: CODE_ID_TOKEN });
      expect(result.scopes).toEqual(["openid", "offline_access"]);
    });
  });

  describe("rule 3: dotted (API) scopes and the catalog", () => {
    it("with no catalog, any well-formed dotted scope is accepted", async () => {
      const scopes = ["account.read", "zone.dns.edit", "a.b", "my-api.v2_read"];
      expect(await normalize(scopes)).toEqual({ scopes, issues: [] });
    });

    it.each(["a..b", ".a", "a.", "."])("with no catalog, the malformed dotted scope %j is refused", async (scope) => {
      const result = await normalize(["profile", scope]);
      expect(result.scopes).toEqual(["profile"]);
      expect(result.issues).toEqual([
        { path: "/scopes/1", message: `${JSON.stringify(scope)} is not a well-formed dotted scope` },
      ]);
    });

    it("isApiScope recognizes dot-delimited names only", () => {
      expect(["account.read", "a.b.c"].map(isApiScope)).toEqual([true, true]);
      expect(["profile", "a..b", ".a", "a.", "account:read"].map(isApiScope)).toEqual([false, false, false, false, false]);
    });

    const catalogs: [string, ScopeCatalog][] = [
      ["a list", ["zone.read", "zone.edit"]],
      [
        "a sync { has, list } object",
        { has: (s: string) => s === "zone.read" || s === "zone.edit", list: () => ["zone.read", "zone.edit"] },
      ],
      [
        "an async { has, list } object",
        {
          has: async (s: string) => s === "zone.read" || s === "zone.edit",
          list: async () => ["zone.read", "zone.edit"],
        },
      ],
    ];

    describe.each(catalogs)("catalog given as %s", (_label, catalog) => {
      it("accepts a dotted scope in the catalog", async () => {
        expect(await normalize(["zone.read", "profile"], { rules: withCatalog(catalog) })).toEqual({
          scopes: ["zone.read", "profile"],
          issues: [],
        });
      });

      it("refuses an unknown dotted scope, naming it", async () => {
        const result = await normalize(["zone.read", "account.delete"], { rules: withCatalog(catalog) });
        expect(result.scopes).toEqual(["zone.read"]);
        expect(result.issues).toEqual([
          { path: "/scopes/1", message: '"account.delete" is not in the scope catalog' },
        ]);
      });

      it("toCatalog exposes it as one async interface", async () => {
        const wrapped = toCatalog(catalog);
        await expect(wrapped.has("zone.edit")).resolves.toBe(true);
        await expect(wrapped.has("zone.delete")).resolves.toBe(false);
        await expect(wrapped.list()).resolves.toEqual(["zone.read", "zone.edit"]);
      });
    });

    it("toCatalog without a catalog accepts every scope and lists none", async () => {
      const wrapped = toCatalog(undefined);
      await expect(wrapped.has("anything.at.all")).resolves.toBe(true);
      await expect(wrapped.list()).resolves.toEqual([]);
    });
  });

  describe("rule 4: other simple scopes must be identity scopes", () => {
    it("profile and email are the default identity scopes", async () => {
      expect(DEFAULT_IDENTITY_SCOPES).toEqual(["profile", "email"]);
      expect(await normalize(["profile", "email"])).toEqual({ scopes: ["profile", "email"], issues: [] });
    });

    it("another simple scope is refused, naming it", async () => {
      const result = await normalize(["profile", "admin"]);
      expect(result.scopes).toEqual(["profile"]);
      expect(result.issues).toHaveLength(1);
      expect(result.issues[0]!.path).toBe("/scopes/1");
      expect(result.issues[0]!.message).toMatch(/^"admin" is not an identity scope \(profile, email\)/);
    });

    it("protocol scope names are case-sensitive: OpenID is not openid", async () => {
      const result = await normalize(["OpenID"], { responses: CODE_ID_TOKEN });
      expect(result.scopes).toEqual(["openid"]);
      expect(result.issues.map((i) => i.path)).toEqual(["/scopes/0"]);
    });

    it("custom identityScopes replace the defaults", async () => {
      const rules: ScopeRules = { identityScopes: ["address", "phone"] };
      const result = await normalize(["address", "profile", "phone"], { rules });
      expect(result.scopes).toEqual(["address", "phone"]);
      expect(result.issues).toEqual([{ path: "/scopes/1", message: expect.stringMatching(/^"profile" is not an identity scope \(address, phone\)/) }]);
    });

    it("with no identity scopes configured, every simple scope is refused", async () => {
      const result = await normalize(["profile"], { rules: { identityScopes: [] } });
      expect(result.scopes).toEqual([]);
      expect(result.issues[0]!.message).toMatch(/none configured/);
    });
  });

  it("every problem is reported at once, each at its own path", async () => {
    const result = await normalize(
      ["profile", "account:read", "", "admin", "a..b", "zone.delete", "bad scope", "zone.read"],
      { rules: withCatalog(["zone.read"]) },
    );
    expect(result.scopes).toEqual(["profile", "zone.read"]);
    expect(result.issues.map((i) => i.path)).toEqual([
      "/scopes/1",
      "/scopes/2",
      "/scopes/3",
      "/scopes/4",
      "/scopes/5",
      "/scopes/6",
    ]);
  });
});

describe("optional scopes: each in scopes, never a protocol scope", () => {
  it("accepts scopes that are in scopes, order kept", () => {
    expect(checkOptionalScopes(["zone.edit", "email"], ["email", "zone.read", "zone.edit"])).toEqual({
      optionalScopes: ["zone.edit", "email"],
      issues: [],
    });
  });

  it("refuses a duplicate at its index, never drops it", () => {
    expect(checkOptionalScopes(["zone.edit", "email", "zone.edit"], ["email", "zone.read", "zone.edit"]).issues).toEqual([
      { path: "/optional_scopes/2", message: "duplicate of entry 0; send each scope once" },
    ]);
  });

  it("refuses a scope that is not in scopes, saying so", () => {
    expect(checkOptionalScopes(["zone.read", "zone.edit"], ["zone.read"])).toEqual({
      optionalScopes: ["zone.read"],
      issues: [{ path: "/optional_scopes/1", message: 'optional scope "zone.edit" must also be in scopes' }],
    });
  });

  it.each(["openid", "offline", "offline_access"])("never accepts the protocol scope %s, even when in scopes", (scope) => {
    const result = checkOptionalScopes([scope], ["openid", "offline_access", "profile"]);
    expect(result.optionalScopes).toEqual([]);
    expect(result.issues).toEqual([
      { path: "/optional_scopes/0", message: `${scope} is managed automatically and cannot be optional` },
    ]);
  });

  it("refuses malformed entries and reports every problem at once", () => {
    const result = checkOptionalScopes(["a:b", "", "openid", "zone.edit", "profile"], ["profile", "openid"], "/x");
    expect(result.optionalScopes).toEqual(["profile"]);
    expect(result.issues.map((i) => i.path)).toEqual(["/x/0", "/x/1", "/x/2", "/x/3"]);
    expect(result.issues[0]!.message).toMatch(/colon-delimited/);
    expect(result.issues[1]!.message).toMatch(/must not be empty/);
  });
});
