/**
 * Replays the request sequence of a declarative client such as the
 * Terraform provider's `cloudflare_oauth_client` resource against the HTTP
 * handler, and checks that what it reads back never differs from its
 * configuration (docs/cloudflare-compatibility.md, "Declarative clients").
 *
 * The model of the provider, from its documented behavior (issue 11):
 * - create: POST with only the attributes set in the configuration;
 * - refresh: GET, the result becomes the state;
 * - apply: PATCH with the attributes whose configured value differs from
 *   the state, and an explicit `null` for every optional attribute the
 *   configuration does not set (removed, or never set while the state shows
 *   a value such as `[]` or `"private"`);
 * - a plan is empty when every configured attribute reads back as sent and
 *   every unset one reads back as its default.
 */
import { describe, expect, it } from "vitest";
import { ACCOUNT, apiRequest, createHarness, envelopeOf, type Harness } from "./helpers/http.js";

type Config = Record<string, unknown>;
type State = Record<string, unknown>;

const clients = `/accounts/${ACCOUNT}/oauth_clients`;

/** The attributes of the resource a configuration may set; the rest are computed. */
const OPTIONAL_DEFAULTS: Record<string, unknown> = {
  optional_scopes: [],
  allowed_cors_origins: [],
  post_logout_redirect_uris: [],
  client_uri: undefined,
  logo_uri: undefined,
  policy_uri: undefined,
  tos_uri: undefined,
  visibility: "private",
};
const REQUIRED = ["client_name", "grant_types", "response_types", "redirect_uris", "scopes", "token_endpoint_auth_method"];
const ATTRIBUTES = [...REQUIRED, ...Object.keys(OPTIONAL_DEFAULTS)];

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The attributes a plan would change: configured ones that read back differently, unset ones not at their default. */
function diff(config: Config, state: State): string[] {
  return ATTRIBUTES.filter((name) =>
    Object.hasOwn(config, name) ? !same(state[name], config[name]) : !same(state[name], OPTIONAL_DEFAULTS[name]),
  );
}

/** The PATCH body the provider builds: changed attributes, and null for every optional attribute left unset. */
function patchBody(config: Config, state: State): Config {
  const body: Config = {};
  for (const name of ATTRIBUTES) {
    if (Object.hasOwn(config, name)) {
      if (!same(state[name], config[name])) body[name] = config[name];
    } else if (name in OPTIONAL_DEFAULTS) body[name] = null;
  }
  return body;
}

async function call(harness: Harness, method: string, path: string, json?: unknown) {
  const response = await harness.handler(apiRequest(method, path, json === undefined ? {} : { json }));
  return { status: response.status, envelope: await envelopeOf(response) };
}

async function refresh(harness: Harness, id: string): Promise<State> {
  const { status, envelope } = await call(harness, "GET", `${clients}/${id}`);
  expect(status).toBe(200);
  return envelope.result as State;
}

/**
 * Creates the resource with the first configuration and applies each next
 * one, refreshing after every step; after each apply the plan is empty, and
 * a second apply (the provider's nulls, nothing changed) succeeds and
 * changes nothing.
 */
async function replay(configs: Config[]): Promise<State> {
  const harness = createHarness();
  const [first, ...rest] = configs;
  const created = await call(harness, "POST", clients, first);
  expect(created.envelope.errors).toEqual([]);
  expect(created.status).toBe(200);
  const id = (created.envelope.result as State).client_id as string;
  let state = await refresh(harness, id);
  expect(diff(first!, state)).toEqual([]);

  for (const config of rest) {
    const updated = await call(harness, "PATCH", `${clients}/${id}`, patchBody(config, state));
    expect(updated.envelope.errors).toEqual([]);
    expect(updated.status).toBe(200);
    state = await refresh(harness, id);
    expect(diff(config, state)).toEqual([]);

    // The next apply after a refresh: only the nulls of the unset attributes.
    const again = patchBody(config, state);
    expect(Object.values(again).every((value) => value === null)).toBe(true);
    const reapplied = await call(harness, "PATCH", `${clients}/${id}`, again);
    expect(reapplied.status).toBe(200);
    const after = await refresh(harness, id);
    expect({ ...after, updated_at: state.updated_at }).toEqual(state);
  }
  return state;
}

const base: Config = {
  client_name: "Terraform app",
  grant_types: ["authorization_code", "refresh_token"],
  response_types: ["code"],
  redirect_uris: ["https://app.example.com/callback"],
  // The managed scope written the way it reads back (offline_access with refresh_token).
  scopes: ["zone.read", "zone.edit", "offline_access"],
  token_endpoint_auth_method: "client_secret_basic",
};

describe("Terraform replay: what the provider configures is what it reads back, and null means the default", () => {
  it("lists added, changed, then removed from the configuration", async () => {
    const lists = {
      optional_scopes: ["zone.edit"],
      allowed_cors_origins: ["https://app.example.com"],
      post_logout_redirect_uris: ["https://app.example.com/bye", "com.example.app:/bye"],
    };
    const state = await replay([
      base,
      { ...base, ...lists },
      { ...base, ...lists, allowed_cors_origins: ["https://app.example.com", "http://localhost:3000"] },
      base,
    ]);
    expect(state).toMatchObject({ optional_scopes: [], allowed_cors_origins: [], post_logout_redirect_uris: [] });
  });

  it("lists set on create, then removed", async () => {
    await replay([{ ...base, optional_scopes: ["zone.read"], allowed_cors_origins: ["https://a.example.com"] }, base]);
  });

  it("URIs set, changed, then removed (client_uri verification goes with client_uri)", async () => {
    const uris = {
      client_uri: "https://app.example.com",
      logo_uri: "https://app.example.com/logo.png",
      policy_uri: "https://app.example.com/privacy",
      tos_uri: "https://app.example.com/tos",
    };
    await replay([{ ...base, ...uris }, { ...base, ...uris, tos_uri: "https://app.example.com/terms" }, base]);
    const state = await replay([base, { ...base, ...uris }, { ...base, logo_uri: uris.logo_uri }]);
    expect(state).not.toHaveProperty("client_uri");
    expect(state).not.toHaveProperty("client_uri_verification");
  });

  it('visibility unset (the provider sends null) or set to "private" reads back "private" with no diff', async () => {
    await replay([base, { ...base, client_name: "Renamed" }]);
    await replay([{ ...base, visibility: "private" }, { ...base, visibility: "private", client_name: "Renamed" }, base]);
  });

  it("a mixed-case origin with a trailing slash is kept exactly as sent", async () => {
    const state = await replay([
      { ...base, allowed_cors_origins: ["https://App.Example.com/", "http://LOCALHOST:3000"] },
      { ...base, allowed_cors_origins: ["https://App.Example.com/", "https://Other.Example.com:8443"] },
    ]);
    expect(state.allowed_cors_origins).toEqual(["https://App.Example.com/", "https://Other.Example.com:8443"]);
  });

  it("required attributes change in place; openid follows id_token when configured the way it reads back", async () => {
    await replay([
      base,
      {
        ...base,
        client_name: "Terraform app v2",
        grant_types: ["authorization_code"],
        response_types: ["code", "id_token"],
        redirect_uris: ["https://app.example.com/callback", "http://127.0.0.1/callback"],
        scopes: ["zone.read", "openid"],
        token_endpoint_auth_method: "client_secret_post",
      },
    ]);
  });

  it("an OpenID Connect code-flow client configures openid with code alone, adds and removes it, with no diff", async () => {
    const oidc = { ...base, scopes: ["zone.read", "openid", "offline_access"] };
    const state = await replay([oidc, { ...oidc, client_name: "Renamed" }, base, oidc]);
    expect(state.scopes).toEqual(["zone.read", "openid", "offline_access"]);
  });
});

describe("Terraform replay: a configuration that could never read back as written is refused, not accepted with a diff", () => {
  it.each([
    [{ allowed_cors_origins: ["https://app.example.com", "https://App.example.com/"] }, "/allowed_cors_origins/1"],
    [{ redirect_uris: ["https://app.example.com/cb", "https://app.example.com/cb"] }, "/redirect_uris/1"],
    [{ scopes: ["zone.read", "zone.read"] }, "/scopes/1"],
    [{ grant_types: ["authorization_code", "authorization_code"] }, "/grant_types/1"],
    [{ client_name: " Terraform app " }, "/client_name"],
  ])("%j → 400 at %s", async (overrides, pointer) => {
    const harness = createHarness();
    const { status, envelope } = await call(harness, "POST", clients, { ...base, ...overrides });
    expect(status).toBe(400);
    expect(envelope.errors.map((e) => e.source?.pointer)).toEqual([pointer]);
  });

  it("removing a required attribute (null) is a 400 naming it; the client is unchanged", async () => {
    const harness = createHarness();
    const created = await call(harness, "POST", clients, base);
    const id = (created.envelope.result as State).client_id as string;
    const before = await refresh(harness, id);
    const { status, envelope } = await call(harness, "PATCH", `${clients}/${id}`, { redirect_uris: null });
    expect(status).toBe(400);
    expect(envelope.errors).toEqual([
      expect.objectContaining({
        message: expect.stringContaining("redirect_uris is required and cannot be cleared"),
        source: { pointer: "/redirect_uris" },
      }),
    ]);
    expect(await refresh(harness, id)).toEqual(before);
  });

  it('visibility "public" on create is a 400 that explains promotion', async () => {
    const harness = createHarness();
    const { status, envelope } = await call(harness, "POST", clients, { ...base, visibility: "public" });
    expect(status).toBe(400);
    expect(envelope.errors[0]).toMatchObject({
      message: expect.stringContaining('then update with visibility "public"'),
      source: { pointer: "/visibility" },
    });
  });
});
