import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, READ_ONLY_FIELDS, type RegistryLimits } from "../src/fields.js";
import { parseClientFields } from "../src/rules/field-rules.js";

const validCreate = () => ({
  client_name: "My App",
  grant_types: ["authorization_code", "refresh_token"],
  response_types: ["code"],
  redirect_uris: ["https://app.example.com/cb"],
  scopes: ["profile"],
  token_endpoint_auth_method: "client_secret_basic",
});

const parseCreate = (body: unknown, limits: RegistryLimits = DEFAULT_LIMITS) =>
  parseClientFields(body, "create", limits);
const parseUpdate = (body: unknown, limits: RegistryLimits = DEFAULT_LIMITS) =>
  parseClientFields(body, "update", limits);
const paths = (issues: { path: string }[]) => issues.map((i) => i.path);

describe("parseClientFields: the create/update body (docs/api.md, the client object)", () => {
  it("a valid create body yields its fields and no issue", () => {
    const { fields, issues } = parseCreate(validCreate());
    expect(issues).toEqual([]);
    expect(fields).toEqual(validCreate());
  });

  it("optional fields are accepted on create", () => {
    const { fields, issues } = parseCreate({
      ...validCreate(),
      optional_scopes: ["profile"],
      allowed_cors_origins: ["https://app.example.com"],
      post_logout_redirect_uris: ["https://app.example.com/bye"],
      client_uri: "https://example.com",
      logo_uri: "https://example.com/logo.png",
      policy_uri: "https://example.com/privacy",
      tos_uri: "https://example.com/tos",
    });
    expect(issues).toEqual([]);
    expect(fields.client_uri).toBe("https://example.com");
  });

  describe("required fields on create", () => {
    const required = [
      "client_name",
      "grant_types",
      "response_types",
      "redirect_uris",
      "scopes",
      "token_endpoint_auth_method",
    ] as const;

    it.each(required)("%s is required", (key) => {
      const body: Record<string, unknown> = validCreate();
      delete body[key];
      expect(parseCreate(body).issues).toEqual([{ path: `/${key}`, message: `${key} is required` }]);
    });

    it("every missing field is reported at once", () => {
      const { issues } = parseCreate({});
      expect(paths(issues).sort()).toEqual(required.map((k) => `/${k}`).sort());
    });

    it("nothing is required on update", () => {
      expect(parseUpdate({})).toEqual({ fields: {}, issues: [] });
    });

    it("scopes may be an empty list", () => {
      expect(parseCreate({ ...validCreate(), scopes: [] }).issues).toEqual([]);
    });
  });

  describe("unknown and read-only fields are reported by name", () => {
    it("an unknown field is reported", () => {
      expect(parseCreate({ ...validCreate(), colour: "blue" }).issues).toEqual([
        { path: "/colour", message: "unknown field colour" },
      ]);
      expect(parseUpdate({ client_secret_issued_at: 0 }).issues).toEqual([
        { path: "/client_secret_issued_at", message: "unknown field client_secret_issued_at" },
      ]);
      // A hidden stored field is not a field of the client object: sending it is an unknown field.
      expect(parseUpdate({ registration_access_token_hash: "x" }).issues).toEqual([
        { path: "/registration_access_token_hash", message: "unknown field registration_access_token_hash" },
      ]);
    });

    it("a field name is escaped as a JSON pointer", () => {
      expect(parseUpdate({ "a/b~c": 1 }).issues).toEqual([{ path: "/a~1b~0c", message: "unknown field a/b~c" }]);
    });

    it.each(READ_ONLY_FIELDS)("%s is read-only on create and on update", (key) => {
      const issue = { path: `/${key}`, message: `${key} is read-only and cannot be set` };
      expect(parseCreate({ ...validCreate(), [key]: "x" }).issues).toEqual([issue]);
      expect(parseUpdate({ [key]: "x" }).issues).toEqual([issue]);
    });

    it("the read-only list covers every server-set field of the client object", () => {
      expect([...READ_ONLY_FIELDS].sort()).toEqual(
        [
          "client_id",
          "client_secret",
          "client_secret_expires_at",
          "client_uri_verification",
          "created_at",
          "has_rotated_secret",
          "last_used_at",
          "promoted_at",
          "rotated_secret_expires_at",
          "rotated_secret_last_used_at",
          "secret_last_used_at",
          "source",
          "updated_at",
        ].sort(),
      );
    });

    it('visibility "private" (the default) is accepted on create', () => {
      const { fields, issues } = parseCreate({ ...validCreate(), visibility: "private" });
      expect(issues).toEqual([]);
      expect(fields.visibility).toBe("private");
    });

    it('visibility "public" on create is refused with the way to promotion', () => {
      const { issues } = parseCreate({ ...validCreate(), visibility: "public" });
      expect(issues).toEqual([{ path: "/visibility", message: expect.stringContaining('then update with visibility "public"') }]);
    });

    it("visibility is allowed on update", () => {
      expect(parseUpdate({ visibility: "public" })).toEqual({ fields: { visibility: "public" }, issues: [] });
      expect(parseUpdate({ visibility: "hidden" }).issues.map((i) => i.path)).toEqual(["/visibility"]);
    });

    it("every unknown and read-only field is reported, one issue each", () => {
      const { issues } = parseUpdate({ foo: 1, bar: 2, client_id: "x", created_at: "y" });
      expect(paths(issues).sort()).toEqual(["/bar", "/client_id", "/created_at", "/foo"]);
    });
  });

  describe("null on update: an optional field back to its default, a required field refused (field table onNull)", () => {
    it.each(["optional_scopes", "allowed_cors_origins", "post_logout_redirect_uris"])("%s: null means []", (key) => {
      expect(parseUpdate({ [key]: null })).toEqual({ fields: { [key]: [] }, issues: [] });
    });

    it("visibility: null leaves it unchanged (it cannot be demoted)", () => {
      expect(parseUpdate({ visibility: null })).toEqual({ fields: {}, issues: [] });
    });

    it.each(["client_name", "grant_types", "response_types", "redirect_uris", "scopes", "token_endpoint_auth_method"])(
      "%s: null is refused, naming the field and saying it is required",
      (key) => {
        expect(parseUpdate({ [key]: null }).issues).toEqual([
          { path: `/${key}`, message: `${key} is required and cannot be cleared (null); send a value` },
        ]);
      },
    );

    it("every null problem is reported at once, beside the accepted nulls", () => {
      const { fields, issues } = parseUpdate({ client_name: null, scopes: null, allowed_cors_origins: null, logo_uri: null });
      expect(paths(issues)).toEqual(["/client_name", "/scopes"]);
      expect(fields).toEqual({ allowed_cors_origins: [], logo_uri: null });
    });

    it("on create, null on an optional field is its default and on a required field is 'required'", () => {
      const { fields, issues } = parseCreate({ ...validCreate(), allowed_cors_origins: null, visibility: null, client_name: null });
      expect(issues).toEqual([{ path: "/client_name", message: "client_name is required" }]);
      expect(fields.allowed_cors_origins).toEqual([]);
      expect(fields).not.toHaveProperty("visibility");
    });
  });

  describe("wrong types give issues with JSON-pointer paths", () => {
    it.each([
      [{ client_name: 42 }, "/client_name", /expected string/],
      [{ grant_types: { authorization_code: true } }, "/grant_types", /expected array/],
      [{ grant_types: ["authorization_code", "implicit"] }, "/grant_types/1", /authorization_code/],
      [{ response_types: ["code", 7] }, "/response_types/1", /./],
      [{ redirect_uris: ["https://app.example.com/cb", 42] }, "/redirect_uris/1", /expected string/],
      [{ scopes: "profile email" }, "/scopes", /expected array/],
      [{ scopes: ["profile", null] }, "/scopes/1", /expected string/],
      [{ optional_scopes: [1] }, "/optional_scopes/0", /expected string/],
      [{ token_endpoint_auth_method: "tls_client_auth" }, "/token_endpoint_auth_method", /private_key_jwt/],
      [{ allowed_cors_origins: [true] }, "/allowed_cors_origins/0", /expected string/],
      [{ post_logout_redirect_uris: {} }, "/post_logout_redirect_uris", /expected array/],
      [{ logo_uri: 5 }, "/logo_uri", /./],
    ])("%j → %s", (patch, path, message) => {
      const { issues } = parseUpdate(patch);
      expect(issues).toHaveLength(1);
      expect(issues[0]).toEqual({ path, message: expect.stringMatching(message) });
    });
  });

  it.each([
    [{ grant_types: "authorization_code" }, "/grant_types"],
    [{ redirect_uris: "" }, "/redirect_uris"],
  ])("a wrongly-typed list gives only its type issue: %j", (patch, path) => {
    expect(parseUpdate(patch).issues).toEqual([{ path, message: expect.stringMatching(/expected array/) }]);
  });

  it("every problem is reported at once (5 different problems → ≥ 5 issues)", () => {
    const { issues } = parseCreate({
      client_name: "   ",
      grant_types: ["refresh_token"],
      response_types: [],
      redirect_uris: ["http://example.com/cb", "https://app.example.com/cb#frag"],
      scopes: ["profile"],
      token_endpoint_auth_method: "magic",
      allowed_cors_origins: ["https://example.com/path"],
      logo_uri: "ftp://example.com/logo.png",
      client_id: "abc",
      extra: true,
    });
    expect(paths(issues).sort()).toEqual(
      [
        "/client_id",
        "/extra",
        "/client_name",
        "/grant_types",
        "/response_types",
        "/redirect_uris/0",
        "/redirect_uris/1",
        "/token_endpoint_auth_method",
        "/allowed_cors_origins/0",
        "/logo_uri",
      ].sort(),
    );
    for (const issue of issues) expect(issue.message).not.toBe("");
  });

  it("every problem is reported at once, even next to a wrongly-typed entry in the same list", () => {
    const { issues } = parseUpdate({ redirect_uris: ["http://example.com/cb", 42] });
    expect(paths(issues).sort()).toEqual(["/redirect_uris/0", "/redirect_uris/1"]);
  });

  describe("non-object bodies give one issue at the root", () => {
    it.each([null, undefined, [], [validCreate()], "client", 42, true])("%j", (body) => {
      for (const result of [parseCreate(body), parseUpdate(body)]) {
        expect(result).toEqual({ fields: {}, issues: [{ path: "", message: "must be a JSON object" }] });
      }
    });
  });

  describe("client_name: kept as sent, 1..200 chars, no control chars", () => {
    it("surrounding whitespace is refused, never trimmed silently; the issue shows the trimmed name", () => {
      expect(parseUpdate({ client_name: "  My App \t" }).issues).toEqual([
        { path: "/client_name", message: 'must not start or end with whitespace: send "My App"' },
      ]);
      expect(parseUpdate({ client_name: "My  App" })).toEqual({ fields: { client_name: "My  App" }, issues: [] });
    });

    it.each(["", "   ", "\t\n"])("%j is refused as empty after trimming", (name) => {
      expect(parseUpdate({ client_name: name }).issues).toEqual([{ path: "/client_name", message: "must not be empty" }]);
    });

    it("200 characters are accepted, 201 refused", () => {
      expect(parseUpdate({ client_name: "a".repeat(200) }).issues).toEqual([]);
      expect(parseUpdate({ client_name: " " + "a".repeat(200) + " " }).issues).toEqual([
        { path: "/client_name", message: `must not start or end with whitespace: send "${"a".repeat(200)}"` },
      ]);
      expect(parseUpdate({ client_name: "a".repeat(201) }).issues).toEqual([
        { path: "/client_name", message: "must be at most 200 characters" },
      ]);
    });

    it.each(["My\u0000App", "My\nApp", "My\u001bApp", "My\u007fApp", "My\u0085App"])(
      "%j is refused for its control character",
      (name) => {
        expect(parseUpdate({ client_name: name }).issues).toEqual([
          { path: "/client_name", message: "must not contain control characters" },
        ]);
      },
    );

    it("non-ASCII names are accepted", () => {
      expect(parseUpdate({ client_name: "Café Ünïcode 🚀" }).issues).toEqual([]);
    });

    it("the length counts Unicode code points, not UTF-16 units", () => {
      expect(parseUpdate({ client_name: "🚀".repeat(200) })).toEqual({ fields: { client_name: "🚀".repeat(200) }, issues: [] });
      expect(parseUpdate({ client_name: "e\u0301".repeat(100) }).issues).toEqual([]);
      for (const name of ["🚀".repeat(201), "👩‍💻".repeat(67)]) {
        expect(parseUpdate({ client_name: name }).issues).toEqual([
          { path: "/client_name", message: "must be at most 200 characters" },
        ]);
      }
    });
  });

  describe("client_name: no invisible or direction-changing characters (display spoofing)", () => {
    it.each([
      ["Pay\u202Epal", "U+202E (RIGHT-TO-LEFT OVERRIDE): it changes the order in which the text around it is displayed"],
      ["\u2067Acme\u2069", "U+2067 (RIGHT-TO-LEFT ISOLATE), U+2069 (POP DIRECTIONAL ISOLATE): characters that are invisible or change how the text around them is displayed are refused"],
      ["Pay\u200Bpal", "U+200B (ZERO WIDTH SPACE): it is invisible when displayed"],
      ["Pay\u200Dpal", "U+200D (ZERO WIDTH JOINER) outside an emoji sequence: it is invisible when displayed"],
      ["Acme\u200F", "U+200F (RIGHT-TO-LEFT MARK): it changes the order in which the text around it is displayed"],
      ["Ac\u00ADme", "U+00AD (SOFT HYPHEN): it is invisible when displayed"],
    ])("%j is refused, naming the code point", (name, detail) => {
      expect(parseUpdate({ client_name: name }).issues).toEqual([{ path: "/client_name", message: `must not contain ${detail}` }]);
    });

    it.each(["\uFEFFAcme", "Acme\u2028", "  \u2029Acme  "])(
      "%j is refused rather than trimmed: trimming would drop the character silently",
      (name) => {
        expect(parseUpdate({ client_name: name }).issues).toEqual([
          { path: "/client_name", message: expect.stringMatching(/^must not contain U\+(FEFF|2028|2029) /) },
        ]);
      },
    );

    it("right-to-left text, combining marks and emoji sequences are accepted as sent", () => {
      const name = "مرحبا שלום e\u0301 👩🏽‍💻 🏳️‍🌈 ❤️ 🇯🇵";
      expect(parseUpdate({ client_name: name })).toEqual({ fields: { client_name: name }, issues: [] });
    });
  });

  describe("every string must be well-formed Unicode (no lone surrogate)", () => {
    const lone = "\ud800";
    const malformed = (where: string) => expect.stringMatching(new RegExp(`^must be well-formed Unicode: .*U\\+D800 at index ${where}`));

    it.each([
      [{ client_name: `My App${lone}` }, "/client_name", "6"],
      [{ redirect_uris: ["https://app.example.com/cb", `https://app.example.com/${lone}`] }, "/redirect_uris/1", "24"],
      [{ post_logout_redirect_uris: [`https://app.example.com/${lone}`] }, "/post_logout_redirect_uris/0", "24"],
      [{ allowed_cors_origins: ["https://a.example", "https://b.example", `https://${lone}`] }, "/allowed_cors_origins/2", "8"],
      [{ scopes: [`zone.read${lone}`] }, "/scopes/0", "9"],
      [{ optional_scopes: ["profile", `${lone}profile`] }, "/optional_scopes/1", "0"],
      [{ client_uri: `https://example.com/${lone}` }, "/client_uri", "20"],
      [{ logo_uri: `https://example.com/${lone}.png` }, "/logo_uri", "20"],
      [{ policy_uri: `https://example.com/${lone}` }, "/policy_uri", "20"],
      [{ tos_uri: `https://example.com/${lone}` }, "/tos_uri", "20"],
    ])("%j → one issue at %s", (patch, path, where) => {
      const { fields, issues } = parseUpdate(patch);
      expect(issues).toEqual([{ path, message: malformed(where) }]);
      expect(Object.keys(fields)).toEqual([]);
    });

    it("every malformed string is reported at once, each at its own pointer", () => {
      const { issues } = parseCreate({
        ...validCreate(),
        client_name: `\udc00 App`,
        redirect_uris: [`https://app.example.com/${lone}`, "https://app.example.com/ok", `https://app.example.com/${lone}2`],
        logo_uri: `https://example.com/${lone}`,
      });
      expect(paths(issues)).toEqual(["/client_name", "/redirect_uris/0", "/redirect_uris/2", "/logo_uri"]);
    });
  });

  describe("a list over its entry limit gets one issue and no per-entry checks", () => {
    const flood = Array.from({ length: 16_000 }, (_, i) => `bad uri ${i}`);

    it.each([
      ["redirect_uris", "must contain at most 100 entries"],
      ["post_logout_redirect_uris", "must contain at most 100 entries"],
      ["allowed_cors_origins", "must contain at most 100 origins"],
      ["scopes", "must contain at most 100 scopes"],
      ["optional_scopes", "must contain at most 100 scopes"],
      ["grant_types", "too many entries"],
      ["response_types", "too many entries"],
    ])("%s with 16,000 bad entries → %j only", (key, message) => {
      expect(parseUpdate({ [key]: flood }).issues).toEqual([{ path: `/${key}`, message }]);
    });

    it("a list within its limit still gets one issue per bad entry", () => {
      const { issues } = parseUpdate({ redirect_uris: flood.slice(0, 100) });
      expect(issues).toHaveLength(100);
      expect(issues[99]).toEqual({ path: "/redirect_uris/99", message: "must not contain whitespace or control characters" });
    });
  });

  describe("grant_types: must contain authorization_code, each once", () => {
    it("is kept as sent, order kept; a duplicate is refused at its index, never dropped", () => {
      expect(parseUpdate({ grant_types: ["refresh_token", "authorization_code"] })).toEqual({
        fields: { grant_types: ["refresh_token", "authorization_code"] },
        issues: [],
      });
      expect(
        parseUpdate({ grant_types: ["refresh_token", "authorization_code", "refresh_token", "authorization_code"] }).issues,
      ).toEqual([
        { path: "/grant_types/2", message: "duplicate of entry 0; send each value once" },
        { path: "/grant_types/3", message: "duplicate of entry 1; send each value once" },
      ]);
    });

    it.each([[["refresh_token"]], [[]]])(
      "%j is refused for lacking authorization_code",
      (grantTypes) => {
        expect(parseUpdate({ grant_types: grantTypes }).issues).toEqual([
          { path: "/grant_types", message: "must contain authorization_code" },
        ]);
      },
    );
  });

  describe("response_types: non-empty, each once", () => {
    it("a duplicate is refused at its index, never dropped", () => {
      expect(parseUpdate({ response_types: ["id_token", "code", "token"] })).toEqual({
        fields: { response_types: ["id_token", "code", "token"] },
        issues: [],
      });
      expect(parseUpdate({ response_types: ["id_token", "code", "id_token", "token"] }).issues).toEqual([
        { path: "/response_types/2", message: "duplicate of entry 0; send each value once" },
      ]);
    });

    it("an empty list is refused", () => {
      expect(parseUpdate({ response_types: [] }).issues).toEqual([
        { path: "/response_types", message: "must contain at least one response type" },
      ]);
    });
  });

  describe("redirect_uris: ≥ 1 and ≤ 100 entries (configurable), URI rules per entry", () => {
    const uris = (n: number) => Array.from({ length: n }, (_, i) => `https://app.example.com/cb/${i}`);

    it("an empty list is refused", () => {
      expect(parseUpdate({ redirect_uris: [] }).issues).toEqual([
        { path: "/redirect_uris", message: "must contain at least one URI" },
      ]);
    });

    it("are kept as sent; an exact repeat is refused at its index (matching is exact, so case variants are distinct)", () => {
      const sent = ["https://App.example.com/cb", "https://app.example.com/cb", "com.example.app:/cb"];
      expect(parseUpdate({ redirect_uris: sent })).toEqual({ fields: { redirect_uris: sent }, issues: [] });
      expect(parseUpdate({ redirect_uris: [...sent, "https://app.example.com/cb"] }).issues).toEqual([
        { path: "/redirect_uris/3", message: "duplicate of entry 1; send each URI once" },
      ]);
      expect(parseUpdate({ post_logout_redirect_uris: ["https://a.example.com/", "https://a.example.com/"] }).issues).toEqual([
        { path: "/post_logout_redirect_uris/1", message: "duplicate of entry 0; send each URI once" },
      ]);
      // One issue per entry: a refused entry is not also a duplicate.
      expect(parseUpdate({ redirect_uris: ["http://a.example.com/", "http://a.example.com/"] }).issues.map((i) => i.path)).toEqual([
        "/redirect_uris/0",
        "/redirect_uris/1",
      ]);
    });

    it("100 entries are accepted, 101 refused", () => {
      expect(parseUpdate({ redirect_uris: uris(100) }).issues).toEqual([]);
      expect(parseUpdate({ redirect_uris: uris(101) }).issues).toEqual([
        { path: "/redirect_uris", message: "must contain at most 100 entries" },
      ]);
    });

    it("the entry limit follows the limits argument", () => {
      const limits = { ...DEFAULT_LIMITS, maxUris: 2 };
      expect(parseUpdate({ redirect_uris: uris(2) }, limits).issues).toEqual([]);
      expect(parseUpdate({ redirect_uris: uris(3) }, limits).issues).toEqual([
        { path: "/redirect_uris", message: "must contain at most 2 entries" },
      ]);
      expect(parseUpdate({ post_logout_redirect_uris: uris(3) }, limits).issues).toEqual([
        { path: "/post_logout_redirect_uris", message: "must contain at most 2 entries" },
      ]);
    });

    it("the URI length follows the limits argument", () => {
      const limits = { ...DEFAULT_LIMITS, maxUriLength: 30 };
      const { issues } = parseUpdate({ redirect_uris: ["https://app.example.com/cb", "https://app.example.com/callback"] }, limits);
      expect(issues).toEqual([{ path: "/redirect_uris/1", message: "must be at most 30 characters" }]);
    });

    it("each refused URI is reported at its index", () => {
      const { issues } = parseUpdate({
        redirect_uris: ["https://ok.example.com/cb", "javascript:alert(1)", "myapp://cb", "http://localhost:3000/cb"],
      });
      expect(paths(issues)).toEqual(["/redirect_uris/1", "/redirect_uris/2"]);
    });

    it("post_logout_redirect_uris follow the same rules and may be empty", () => {
      expect(parseUpdate({ post_logout_redirect_uris: [] }).issues).toEqual([]);
      expect(paths(parseUpdate({ post_logout_redirect_uris: ["https://a.example.com/#x"] }).issues)).toEqual([
        "/post_logout_redirect_uris/0",
      ]);
    });
  });

  describe("allowed_cors_origins: kept as sent, compared canonically, each once", () => {
    it("keeps each origin exactly as sent", () => {
      const sent = ["https://App.Example.com/", "http://localhost:3000", "https://other.example.com:8443"];
      expect(parseUpdate({ allowed_cors_origins: sent })).toEqual({ fields: { allowed_cors_origins: sent }, issues: [] });
    });

    it("refuses two spellings of one origin, naming the canonical form", () => {
      const { issues } = parseUpdate({
        allowed_cors_origins: ["https://App.Example.com/", "https://app.example.com", "https://app.example.com:443", "https://App.Example.com/"],
      });
      expect(issues).toEqual([
        { path: "/allowed_cors_origins/1", message: "same origin as entry 0 (https://app.example.com); send each origin once" },
        { path: "/allowed_cors_origins/2", message: "same origin as entry 0 (https://app.example.com); send each origin once" },
        { path: "/allowed_cors_origins/3", message: "duplicate of entry 0; send each origin once" },
      ]);
    });

    it("refuses non-origins at their index", () => {
      const { issues } = parseUpdate({
        allowed_cors_origins: ["https://ok.example.com", "https://app.example.com/path", "https://*.example.com"],
      });
      expect(paths(issues)).toEqual(["/allowed_cors_origins/1", "/allowed_cors_origins/2"]);
    });

    it("the entry limit follows the limits argument", () => {
      const limits = { ...DEFAULT_LIMITS, maxCorsOrigins: 1 };
      expect(parseUpdate({ allowed_cors_origins: ["https://a.example", "https://b.example"] }, limits).issues).toEqual([
        { path: "/allowed_cors_origins", message: "must contain at most 1 origins" },
      ]);
    });
  });

  describe("client_uri, logo_uri, policy_uri, tos_uri", () => {
    const keys = ["client_uri", "logo_uri", "policy_uri", "tos_uri"] as const;

    it.each(keys)("%s accepts null on update (to clear it)", (key) => {
      expect(parseUpdate({ [key]: null })).toEqual({ fields: { [key]: null }, issues: [] });
    });

    it.each(keys)("%s must be https or http on loopback", (key) => {
      expect(parseUpdate({ [key]: "http://localhost:8080/x" }).issues).toEqual([]);
      expect(paths(parseUpdate({ [key]: "http://example.com/x" }).issues)).toEqual([`/${key}`]);
    });
  });

  describe("scopes and optional_scopes: shape only (normalization is in scopes.test.ts)", () => {
    it("a scope over 128 characters is refused at its index", () => {
      expect(parseUpdate({ scopes: ["profile", "a".repeat(129)] }).issues).toEqual([
        { path: "/scopes/1", message: "a scope must be at most 128 characters" },
      ]);
    });

    it("the number of scopes follows the limits argument", () => {
      const limits = { ...DEFAULT_LIMITS, maxScopes: 1 };
      expect(parseUpdate({ scopes: ["profile", "email"] }, limits).issues).toEqual([
        { path: "/scopes", message: "must contain at most 1 scopes" },
      ]);
    });
  });
});
