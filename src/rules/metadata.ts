/**
 * RFC 7591 client metadata ↔ this registry's client fields. Dynamic
 * registration (RFC 7591/7592) and Client ID Metadata Documents both
 * describe a client in RFC 7591 member names; the registry stores its own
 * field names. This module translates in both directions and nothing more:
 * the translated input goes through the registry's usual rules, so a
 * self-registered client is held to exactly the rules of any other client.
 *
 * What the translation decides, and only here:
 * - the RFC 7591 §2 defaults: `grant_types` ["authorization_code"],
 *   `response_types` ["code"], `token_endpoint_auth_method`
 *   "client_secret_basic" (registration) or "none" (metadata documents,
 *   which cannot hold a shared secret);
 * - `scope`, a space-separated string, becomes the `scopes` list;
 * - a missing `client_name` is derived from a host (the first redirect
 *   URI's for registration, the client id URL's for a metadata document),
 *   because the registry needs a display name and RFC 7591 makes it optional;
 * - members RFC 7591 leaves to the server's discretion that this registry
 *   does not keep (`contacts`, `software_id`, …) and unknown members are
 *   ignored, as RFC 7591 §2 allows; a `software_statement` is refused,
 *   because ignoring a signed statement would silently drop what it asserts.
 */
import type { ValidationIssue } from "../model/errors.js";
import { pointer } from "../model/errors.js";
import {
  GRANT_TYPES,
  RESPONSE_TYPES,
  TOKEN_ENDPOINT_AUTH_METHODS,
  usesSecret,
  type CreateClientInput,
  type GrantType,
  type OAuthClient,
  type ResponseType,
  type TokenEndpointAuthMethod,
} from "../fields.js";
import type { JsonWebKeySet } from "./jwks.js";

/** Where a metadata document comes from: a registration request, or a Client ID Metadata Document. */
export type MetadataSource = "dcr" | "cimd";

/** A client described by RFC 7591 metadata, in this registry's field names: a create body. */
export type ClientMetadataInput = CreateClientInput;

/** Options of {@link metadataToClientInput}. */
export interface MetadataMappingOptions {
  /** "dcr" for a registration request (RFC 7591), "cimd" for a Client ID Metadata Document. */
  source: MetadataSource;
  /**
   * The client id the document must name in its `client_id` member: the
   * document's URL for "cimd" (required), the registered client id for an
   * RFC 7592 update. Left out for a new registration, whose `client_id`
   * member (if any) is ignored: the server issues client ids.
   */
  clientId?: string;
}

/** RFC 7591 error codes (§3.2.2) a refused registration answers with. */
export type RegistrationErrorCode =
  | "invalid_redirect_uri"
  | "invalid_client_metadata"
  | "invalid_software_statement"
  | "unapproved_software_statement";

const AUTH_METHODS: readonly string[] = TOKEN_ENDPOINT_AUTH_METHODS;

/** Simple string members: RFC 7591 name and ours are the same. */
const URL_MEMBERS = ["client_uri", "logo_uri", "policy_uri", "tos_uri"] as const;

/** Members a Client ID Metadata Document must not carry: it is public, so it cannot hold a shared secret. */
const CIMD_FORBIDDEN = ["client_secret", "client_secret_expires_at"] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A member's value, with JSON null read as absent (clients serialize unset optional members as null). */
function member(metadata: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(metadata, name) && metadata[name] !== null ? metadata[name] : undefined;
}

/**
 * A list of strings, each optionally one of `allowed`; issues for anything
 * else. Returns the accepted strings (in order), or undefined when the
 * member is not a list at all.
 */
function stringList(
  value: unknown,
  name: string,
  issues: ValidationIssue[],
  allowed?: { values: readonly string[]; what: string },
): string[] | undefined {
  if (!Array.isArray(value)) {
    issues.push({ path: pointer(name), message: `must be an array of strings` });
    return undefined;
  }
  const out: string[] = [];
  value.forEach((entry: unknown, i) => {
    if (typeof entry !== "string") issues.push({ path: pointer(name, i), message: "must be a string" });
    else if (allowed && !allowed.values.includes(entry)) {
      const shown = entry.length > 64 ? `${entry.slice(0, 64)}…` : entry;
      issues.push({
        path: pointer(name, i),
        message: `unsupported ${allowed.what} ${JSON.stringify(shown)}; supported: ${allowed.values.join(", ")}`,
      });
    } else out.push(entry);
  });
  return out;
}

/**
 * The `scope` member (RFC 7591 §2: scope tokens separated by single spaces,
 * RFC 6749 §3.3) as a list; "" is no scopes. Extra spaces are refused with
 * the accepted form rather than collapsed, as every other value is kept as sent.
 */
function scopeList(value: unknown, issues: ValidationIssue[]): string[] {
  if (typeof value !== "string") {
    issues.push({ path: "/scope", message: 'must be a string of space-separated scopes, e.g. "profile email"' });
    return [];
  }
  if (value === "") return [];
  const tokens = value.split(" ");
  if (tokens.some((token) => token === "")) {
    const tidy = value.split(" ").filter(Boolean).join(" ");
    issues.push({ path: "/scope", message: `must be scopes separated by single spaces, without leading or trailing spaces: send ${JSON.stringify(tidy)}` });
    return tokens.filter(Boolean);
  }
  return tokens;
}

/** The host a display name is derived from: a URL's host, or a private-use scheme (`com.example.app`). */
function derivedName(uri: string | undefined): string | undefined {
  if (uri === undefined) return undefined;
  try {
    const url = new URL(uri);
    const name = url.host !== "" ? url.host : url.protocol.slice(0, -1);
    return name === "" ? undefined : name.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * Translates RFC 7591 client metadata (a registration request or a Client
 * ID Metadata Document) into a create body in this registry's field names,
 * applying the RFC 7591 defaults. `issues` lists every problem of the
 * translation itself (wrong member types, unsupported grant types, a
 * software statement, a `client_id` that does not match, a shared-secret
 * method in a metadata document), with JSON pointers in RFC 7591 member
 * names; the URI, scope and cross-field rules run when the registry
 * validates `input`. Use `input` only when `issues` is empty.
 *
 * Throws a TypeError when `source` is "cimd" without `clientId` (a caller
 * bug: a metadata document is always fetched from its client id).
 *
 * @example
 * ```ts
 * import { metadataToClientInput } from "oauth-client-registry/registration";
 *
 * const { input, issues } = metadataToClientInput(
 *   { redirect_uris: ["https://app.example.com/cb"], scope: "profile email" },
 *   { source: "dcr" },
 * );
 * // input: { client_name: "app.example.com", redirect_uris: [...], scopes: ["profile", "email"],
 * //          grant_types: ["authorization_code"], response_types: ["code"],
 * //          token_endpoint_auth_method: "client_secret_basic" }; issues: []
 * ```
 */
export function metadataToClientInput(
  metadata: unknown,
  options: MetadataMappingOptions,
): { input: ClientMetadataInput; issues: ValidationIssue[] } {
  const { source, clientId } = options;
  if (source === "cimd" && clientId === undefined) {
    throw new TypeError('metadataToClientInput: source "cimd" needs the clientId (the URL the document was fetched from)');
  }
  const input: ClientMetadataInput = {
    client_name: "",
    grant_types: ["authorization_code"],
    response_types: ["code"],
    redirect_uris: [],
    scopes: [],
    token_endpoint_auth_method: source === "cimd" ? "none" : "client_secret_basic",
  };
  const issues: ValidationIssue[] = [];
  if (!isObject(metadata)) return { input, issues: [{ path: "", message: "client metadata must be a JSON object" }] };

  if (member(metadata, "software_statement") !== undefined) {
    issues.push({
      path: "/software_statement",
      message: "software statements are not accepted by this server; send the client metadata as plain JSON members",
    });
  }

  if (clientId !== undefined) {
    const named = member(metadata, "client_id");
    if (named === undefined) {
      issues.push({ path: "/client_id", message: `is required and must be ${JSON.stringify(clientId)}` });
    } else if (named !== clientId) {
      const what = source === "cimd" ? "the URL of this metadata document" : "the client id being updated";
      issues.push({ path: "/client_id", message: `must be ${what}, ${JSON.stringify(clientId)}` });
    }
  }
  if (source === "cimd") {
    for (const name of CIMD_FORBIDDEN) {
      if (member(metadata, name) !== undefined) {
        issues.push({ path: pointer(name), message: "a client metadata document is public and must not carry a client secret" });
      }
    }
  }

  const redirectUris = member(metadata, "redirect_uris");
  if (redirectUris === undefined) issues.push({ path: "/redirect_uris", message: "is required: at least one redirect URI" });
  else input.redirect_uris = stringList(redirectUris, "redirect_uris", issues) ?? [];

  const grantTypes = member(metadata, "grant_types");
  if (grantTypes !== undefined) {
    const list = stringList(grantTypes, "grant_types", issues, { values: GRANT_TYPES, what: "grant type" });
    if (list !== undefined) input.grant_types = list as GrantType[];
  }
  const responseTypes = member(metadata, "response_types");
  if (responseTypes !== undefined) {
    const list = stringList(responseTypes, "response_types", issues, { values: RESPONSE_TYPES, what: "response type" });
    if (list !== undefined) input.response_types = list as ResponseType[];
  }

  const method = member(metadata, "token_endpoint_auth_method");
  if (method !== undefined) {
    if (typeof method !== "string" || !AUTH_METHODS.includes(method)) {
      issues.push({
        path: "/token_endpoint_auth_method",
        message: `unsupported token endpoint authentication method; supported: ${AUTH_METHODS.join(", ")}`,
      });
    } else if (source === "cimd" && usesSecret(method as TokenEndpointAuthMethod)) {
      issues.push({
        path: "/token_endpoint_auth_method",
        message: `a client metadata document cannot use a shared secret (${method}); use "none" or "private_key_jwt"`,
      });
    } else input.token_endpoint_auth_method = method as TokenEndpointAuthMethod;
  }

  const scope = member(metadata, "scope");
  if (scope !== undefined) input.scopes = scopeList(scope, issues);

  const clientName = member(metadata, "client_name");
  if (clientName !== undefined) {
    if (typeof clientName === "string") input.client_name = clientName;
    else issues.push({ path: "/client_name", message: "must be a string" });
  } else {
    const derived = derivedName(source === "cimd" ? clientId : input.redirect_uris[0]);
    if (derived !== undefined) input.client_name = derived;
  }

  for (const name of URL_MEMBERS) {
    const value = member(metadata, name);
    if (value === undefined) continue;
    if (typeof value === "string") input[name] = value;
    else issues.push({ path: pointer(name), message: "must be a string (a URL)" });
  }
  const postLogout = member(metadata, "post_logout_redirect_uris");
  if (postLogout !== undefined) {
    const list = stringList(postLogout, "post_logout_redirect_uris", issues);
    if (list !== undefined) input.post_logout_redirect_uris = list;
  }

  const jwks = member(metadata, "jwks");
  if (jwks !== undefined) {
    // The keys themselves (kty, public members only, count, size) are the registry's rules.
    if (isObject(jwks) && Array.isArray(jwks.keys) && jwks.keys.every(isObject)) {
      input.jwks = jwks as unknown as JsonWebKeySet;
    } else issues.push({ path: "/jwks", message: 'must be a JSON Web Key Set: an object with "keys", an array of key objects' });
  }
  const jwksUri = member(metadata, "jwks_uri");
  if (jwksUri !== undefined) {
    if (typeof jwksUri === "string") input.jwks_uri = jwksUri;
    else issues.push({ path: "/jwks_uri", message: "must be a string (an https URL)" });
  }
  return { input, issues };
}

/** What a registration response adds to the client's own metadata. */
export interface RegistrationResponseExtras {
  /** The secret, when one was just issued (registration only: it is stored hashed). */
  client_secret?: string;
  /** Unix seconds; overrides the client's `client_secret_expires_at`. */
  client_secret_expires_at?: number;
  /** RFC 7592 token, when one was just issued. */
  registration_access_token?: string;
  /** RFC 7592 URL of this registration. */
  registration_client_uri?: string;
}

/** RFC 7591 client information response members (§3.2.1). */
export interface ClientInformationResponse {
  client_id: string;
  client_secret?: string;
  client_id_issued_at: number;
  client_secret_expires_at?: number;
  registration_access_token?: string;
  registration_client_uri?: string;
  client_name: string;
  redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  token_endpoint_auth_method: string;
  /** Absent when the client has no scopes. */
  scope?: string;
  client_uri?: string;
  logo_uri?: string;
  policy_uri?: string;
  tos_uri?: string;
  post_logout_redirect_uris?: string[];
  jwks?: JsonWebKeySet;
  jwks_uri?: string;
}

/**
 * A registered client as RFC 7591 client information (§3.2.1): member
 * names of RFC 7591, `scope` joined with spaces (absent for no scopes), `client_id_issued_at` from
 * `created_at` in Unix seconds, and `client_secret_expires_at` (0: never)
 * for clients that authenticate with a secret, plus the `extras` of the
 * response being built.
 *
 * @example
 * ```ts
 * import { clientToMetadata } from "oauth-client-registry/registration";
 *
 * declare const input: Parameters<typeof registry.registerClient>[1];
 * const registered = await registry.registerClient("acct", input);
 * const body = clientToMetadata(registered.client, {
 *   client_secret: registered.client_secret,
 *   registration_access_token: registered.registration_access_token,
 *   registration_client_uri: `https://auth.example.com/register/${registered.client.client_id}`,
 * });
 * ```
 */
export function clientToMetadata(client: OAuthClient, extras: RegistrationResponseExtras = {}): ClientInformationResponse {
  const out: ClientInformationResponse = {
    client_id: client.client_id,
    client_id_issued_at: Math.floor(Date.parse(client.created_at) / 1000),
    client_name: client.client_name,
    redirect_uris: [...client.redirect_uris],
    grant_types: [...client.grant_types],
    response_types: [...client.response_types],
    token_endpoint_auth_method: client.token_endpoint_auth_method,
  };
  // No scopes is no member rather than "", which a client could send back as an empty scope request.
  if (client.scopes.length > 0) out.scope = client.scopes.join(" ");
  if (extras.client_secret !== undefined) out.client_secret = extras.client_secret;
  // RFC 7591 §3.2.1: required whenever a secret exists, even when it is not shown again.
  if (extras.client_secret !== undefined || usesSecret(client.token_endpoint_auth_method)) {
    out.client_secret_expires_at = extras.client_secret_expires_at ?? client.client_secret_expires_at;
  }
  if (extras.registration_access_token !== undefined) out.registration_access_token = extras.registration_access_token;
  if (extras.registration_client_uri !== undefined) out.registration_client_uri = extras.registration_client_uri;
  for (const name of URL_MEMBERS) {
    const value = client[name];
    if (typeof value === "string") out[name] = value;
  }
  if (client.post_logout_redirect_uris.length > 0) out.post_logout_redirect_uris = [...client.post_logout_redirect_uris];
  if (client.jwks) out.jwks = client.jwks;
  if (typeof client.jwks_uri === "string") out.jwks_uri = client.jwks_uri;
  return out;
}

/**
 * Which RFC 7591 error code (§3.2.2) a refusal with these issues answers
 * with: `unapproved_software_statement` when a software statement was sent
 * (this server accepts none), else `invalid_redirect_uri` when any issue is
 * about `redirect_uris`, else `invalid_client_metadata`.
 *
 * @example
 * ```ts
 * registrationErrorCode([{ path: "/redirect_uris/0", message: "must use https" }]); // "invalid_redirect_uri"
 * ```
 */
export function registrationErrorCode(issues: readonly ValidationIssue[]): RegistrationErrorCode {
  const under = (name: string) => (issue: ValidationIssue) => issue.path === name || issue.path.startsWith(`${name}/`);
  if (issues.some(under("/software_statement"))) return "unapproved_software_statement";
  if (issues.some(under("/redirect_uris"))) return "invalid_redirect_uri";
  return "invalid_client_metadata";
}

/**
 * The response types a self-registered client (RFC 7591 registration,
 * RFC 7592 update, a Client ID Metadata Document) cannot hold, as issues at
 * `/response_types/N`. Registration offers only the response types of the
 * grants this server has (RFC 7591 §2.1, OpenID Connect Registration §2):
 * `code` pairs with authorization_code; `token` and `id_token` pair with the
 * implicit grant, which does not exist here (grant types are
 * authorization_code and refresh_token). An OpenID Connect client uses
 * `code` with the `openid` scope and gets its ID token from the token
 * endpoint. The management API keeps accepting both, for the records it
 * exchanges with Cloudflare-compatible tooling.
 *
 * @example
 * ```ts
 * selfRegisteredResponseTypeIssues(["code", "token"]);
 * // [{ path: "/response_types/1", message: '"token" needs the implicit grant, …' }]
 * ```
 */
export function selfRegisteredResponseTypeIssues(responseTypes: readonly string[] | undefined): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  responseTypes?.forEach((type, index) => {
    if (type === "token" || type === "id_token") {
      issues.push({
        path: pointer("response_types", index),
        message:
          `"${type}" needs the implicit grant, which this server does not offer (grant types: authorization_code, refresh_token); register "code"` +
          (type === "id_token" ? " with the openid scope: the ID token then comes from the token endpoint" : ""),
      });
    }
  });
  return issues;
}
