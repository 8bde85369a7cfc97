/**
 * The client object and the create/update input shapes. Zod schemas are the
 * single source of truth: TypeScript types are inferred from them and the
 * OpenAPI document is generated from them.
 */
import { z } from "zod";
import { pointer, type ValidationIssue } from "./errors.js";
import { displayTextProblem, exceedsCodePoints, wellFormedProblem } from "./text.js";
import { checkRedirectUri, checkWebPageUrl, normalizeOrigin } from "./uris.js";

export const GRANT_TYPES = ["authorization_code", "refresh_token"] as const;
export const RESPONSE_TYPES = ["code", "token", "id_token"] as const;
export const TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"] as const;
export const VISIBILITIES = ["private", "public"] as const;
export const VERIFICATION_STATUSES = ["pending", "in_progress", "verified", "failed"] as const;

export const grantTypeSchema = z.enum(GRANT_TYPES);
export const responseTypeSchema = z.enum(RESPONSE_TYPES);
export const tokenEndpointAuthMethodSchema = z.enum(TOKEN_ENDPOINT_AUTH_METHODS);
export const visibilitySchema = z.enum(VISIBILITIES);

export type GrantType = z.infer<typeof grantTypeSchema>;
export type ResponseType = z.infer<typeof responseTypeSchema>;
export type TokenEndpointAuthMethod = z.infer<typeof tokenEndpointAuthMethodSchema>;
export type Visibility = z.infer<typeof visibilitySchema>;

export const clientUriVerificationSchema = z
  .object({
    status: z.enum(VERIFICATION_STATUSES),
    text: z.string().describe("Publish this exact value as a DNS TXT record on the client_uri host."),
  })
  .describe("Proof that the client owner controls the client_uri host.");
export type ClientUriVerification = z.infer<typeof clientUriVerificationSchema>;

/** Size limits applied to inputs; every one is configurable through registry options. */
export interface RegistryLimits {
  /**
   * Longest accepted URI or origin, in characters. Default 2048. URIs are
   * ASCII, so characters, code points and bytes are the same number.
   */
  maxUriLength: number;
  /** Most redirect_uris / post_logout_redirect_uris entries. Default 100. */
  maxUris: number;
  /** Most allowed_cors_origins entries. Default 100. */
  maxCorsOrigins: number;
  /** Most scopes / optional_scopes entries. Default 100. */
  maxScopes: number;
  /** Largest page `list` returns. Default 100. */
  maxPageSize: number;
  /** Page size when `list` is called without a limit. Default 50. */
  defaultPageSize: number;
}

export const DEFAULT_LIMITS: Readonly<RegistryLimits> = Object.freeze({
  maxUriLength: 2048,
  maxUris: 100,
  maxCorsOrigins: 100,
  maxScopes: 100,
  maxPageSize: 100,
  defaultPageSize: 50,
});

/** Longest client_name, in Unicode code points, after trimming. */
export const CLIENT_NAME_MAX_LENGTH = 200;
/** Longest scope, in Unicode code points. */
export const SCOPE_MAX_LENGTH = 128;

/**
 * A text field: well-formed Unicode and, with `max`, at most `max` Unicode
 * code points (which is what JSON Schema's maxLength counts too). Every
 * string field of a client is built from it.
 */
function text(max?: number, tooLong = `must be at most ${max} characters`) {
  const wellFormed = z.string().refine((value) => wellFormedProblem(value) === null, {
    error: (issue) => wellFormedProblem(issue.input as string) ?? "must be well-formed Unicode",
    abort: true,
  });
  if (max === undefined) return wellFormed;
  return wellFormed
    .refine((value) => !exceedsCodePoints(value, max), { message: tooLong, abort: true })
    .meta({ maxLength: max });
}

type ListField =
  | "grant_types"
  | "response_types"
  | "redirect_uris"
  | "post_logout_redirect_uris"
  | "scopes"
  | "optional_scopes"
  | "allowed_cors_origins";

/** Most entries each list field takes, and the issue a longer list gets. */
function listLimits(limits: RegistryLimits): Record<ListField, { max: number; message: string }> {
  const atMost = (max: number, what: string) => ({ max, message: `must contain at most ${max} ${what}` });
  return {
    // The enum lists are deduplicated; a few repeats are tolerated, floods are not.
    grant_types: { max: GRANT_TYPES.length * 4, message: "too many entries" },
    response_types: { max: RESPONSE_TYPES.length * 4, message: "too many entries" },
    redirect_uris: atMost(limits.maxUris, "entries"),
    post_logout_redirect_uris: atMost(limits.maxUris, "entries"),
    scopes: atMost(limits.maxScopes, "scopes"),
    optional_scopes: atMost(limits.maxScopes, "scopes"),
    allowed_cors_origins: atMost(limits.maxCorsOrigins, "origins"),
  };
}

/** Per-field input schemas (shape only; URI and scope rules run after them). */
export function createFieldSchemas(limits: RegistryLimits) {
  const lists = listLimits(limits);
  const uri = () => text(limits.maxUriLength);
  const uriList = (field: "redirect_uris" | "post_logout_redirect_uris", min = 0) =>
    z
      .array(uri())
      .min(min, min === 1 ? "must contain at least one URI" : undefined)
      .max(lists[field].max, lists[field].message);
  const scopeList = (field: "scopes" | "optional_scopes") =>
    z
      .array(text(SCOPE_MAX_LENGTH, `a scope must be at most ${SCOPE_MAX_LENGTH} characters`))
      .max(lists[field].max, lists[field].message);
  const webUrl = uri().nullable();
  return {
    client_name: text().describe(
      `Display name; trimmed, 1 to ${CLIENT_NAME_MAX_LENGTH} characters (Unicode code points), ` +
        "no control, invisible or bidirectional-formatting characters.",
    ),
    grant_types: z
      .array(grantTypeSchema)
      .min(1, "must contain authorization_code")
      .max(lists.grant_types.max, lists.grant_types.message)
      .describe("Must contain authorization_code; duplicates are removed."),
    response_types: z
      .array(responseTypeSchema)
      .min(1, "must contain at least one response type")
      .max(lists.response_types.max, lists.response_types.message)
      .describe("Non-empty; duplicates are removed."),
    redirect_uris: uriList("redirect_uris", 1).describe(
      "https, http on loopback, or a reverse-domain private-use scheme; ASCII only (RFC 3986); no fragment, userinfo or wildcard.",
    ),
    scopes: scopeList("scopes").describe(
      "Normalized: openid and offline_access are managed from response_types and grant_types.",
    ),
    optional_scopes: scopeList("optional_scopes").describe("Each must also be in scopes; never openid or offline_access."),
    token_endpoint_auth_method: tokenEndpointAuthMethodSchema,
    allowed_cors_origins: z
      .array(uri())
      .max(lists.allowed_cors_origins.max, lists.allowed_cors_origins.message)
      .describe("Origins only (scheme, host, optional port); normalized."),
    post_logout_redirect_uris: uriList("post_logout_redirect_uris"),
    client_uri: webUrl.describe("Home page of the client; https (http on loopback), ASCII only. Starts DNS verification."),
    logo_uri: webUrl,
    policy_uri: webUrl,
    tos_uri: webUrl,
    visibility: visibilitySchema.describe('"public" promotes the client; demotion is refused.'),
  };
}

// Schemas depend only on the limits; a registry's limits object is built
// once, so each registry builds its schemas once instead of on every call.
const fieldSchemasByLimits = new WeakMap<RegistryLimits, ReturnType<typeof createFieldSchemas>>();

function fieldSchemasFor(limits: RegistryLimits): ReturnType<typeof createFieldSchemas> {
  let schemas = fieldSchemasByLimits.get(limits);
  if (!schemas) fieldSchemasByLimits.set(limits, (schemas = createFieldSchemas(limits)));
  return schemas;
}

const defaultFields = fieldSchemasFor(DEFAULT_LIMITS);

/** Body of a create call. */
export const createClientInputSchema = z.strictObject({
  client_name: defaultFields.client_name,
  grant_types: defaultFields.grant_types,
  response_types: defaultFields.response_types,
  redirect_uris: defaultFields.redirect_uris,
  scopes: defaultFields.scopes,
  optional_scopes: defaultFields.optional_scopes.optional(),
  token_endpoint_auth_method: defaultFields.token_endpoint_auth_method,
  allowed_cors_origins: defaultFields.allowed_cors_origins.optional(),
  post_logout_redirect_uris: defaultFields.post_logout_redirect_uris.optional(),
  client_uri: defaultFields.client_uri.optional(),
  logo_uri: defaultFields.logo_uri.optional(),
  policy_uri: defaultFields.policy_uri.optional(),
  tos_uri: defaultFields.tos_uri.optional(),
});
export type CreateClientInput = z.infer<typeof createClientInputSchema>;

/** Body of an update (PATCH) call: every field optional; only fields sent change. */
export const updateClientInputSchema = z.strictObject({
  ...Object.fromEntries(
    Object.entries(createClientInputSchema.shape).map(([k, v]) => [k, v.optional()]),
  ) as { [K in keyof typeof createClientInputSchema.shape]: z.ZodOptional<(typeof createClientInputSchema.shape)[K]> },
  visibility: defaultFields.visibility.optional(),
});
export type UpdateClientInput = z.infer<typeof updateClientInputSchema>;

/** The client as every read returns it (wire names, snake_case). */
export const oauthClientSchema = z.object({
  client_id: z.string().describe("Read-only identifier."),
  visibility: visibilitySchema,
  client_name: z.string(),
  grant_types: z.array(grantTypeSchema),
  response_types: z.array(responseTypeSchema),
  redirect_uris: z.array(z.string()),
  scopes: z.array(z.string()),
  optional_scopes: z.array(z.string()),
  token_endpoint_auth_method: tokenEndpointAuthMethodSchema,
  allowed_cors_origins: z.array(z.string()),
  post_logout_redirect_uris: z.array(z.string()),
  client_uri: z.string().optional(),
  logo_uri: z.string().optional(),
  policy_uri: z.string().optional(),
  tos_uri: z.string().optional(),
  client_uri_verification: clientUriVerificationSchema.optional(),
  has_rotated_secret: z.boolean(),
  created_at: z.string().describe("RFC 3339 UTC."),
  updated_at: z.string().describe("RFC 3339 UTC."),
  promoted_at: z.string().optional().describe("RFC 3339 UTC; set when promoted to public."),
});
export type OAuthClient = z.infer<typeof oauthClientSchema>;

/** The create result: the client plus its secret (absent for "none" clients). */
export const createdOAuthClientSchema = oauthClientSchema.extend({
  client_secret: z.string().optional().describe("Shown once; store it now."),
});
export type CreatedOAuthClient = z.infer<typeof createdOAuthClientSchema>;

/** Fields the server sets; sending them is an error. */
export const READ_ONLY_FIELDS = [
  "client_id",
  "client_uri_verification",
  "has_rotated_secret",
  "created_at",
  "updated_at",
  "promoted_at",
  "client_secret",
] as const;

const REQUIRED_ON_CREATE = [
  "client_name",
  "grant_types",
  "response_types",
  "redirect_uris",
  "scopes",
  "token_endpoint_auth_method",
] as const;

/** Input fields after shape checks and per-field rules, ready for cross-field rules. */
export interface ParsedClientFields {
  client_name?: string;
  grant_types?: GrantType[];
  response_types?: ResponseType[];
  redirect_uris?: string[];
  scopes?: string[];
  optional_scopes?: string[];
  token_endpoint_auth_method?: TokenEndpointAuthMethod;
  allowed_cors_origins?: string[];
  post_logout_redirect_uris?: string[];
  client_uri?: string | null;
  logo_uri?: string | null;
  policy_uri?: string | null;
  tos_uri?: string | null;
  visibility?: Visibility;
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

/** The first problem of a client_name as sent (`sent`) and trimmed (`name`), or null. */
function clientNameProblem(sent: string, name: string): string | null {
  if (name.length === 0) return "must not be empty";
  if (exceedsCodePoints(name, CLIENT_NAME_MAX_LENGTH)) return `must be at most ${CLIENT_NAME_MAX_LENGTH} characters`;
  // Checked before trimming, which would silently drop a leading U+FEFF or U+2028.
  const hidden = displayTextProblem(sent);
  if (hidden !== null) return hidden;
  if (CONTROL_CHARS.test(name)) return "must not contain control characters";
  return null;
}

function zodIssues(error: z.ZodError, field: string): ValidationIssue[] {
  // A value of the wrong type gets one issue, not extra length complaints.
  const key = (path: PropertyKey[]) => path.map(String).join("\u0000");
  const wrongType = new Set(error.issues.filter((i) => i.code === "invalid_type").map((i) => key(i.path)));
  const relevant = error.issues.filter((i) => i.code === "invalid_type" || !wrongType.has(key(i.path)));
  return relevant.map((issue) => ({
    path: pointer(field, ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))),
    message: issue.message,
  }));
}

function dedupe<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/**
 * Checks the shape and the per-field rules of a create or update body and
 * reports every problem at once. Cross-field rules (scopes, auth method
 * switches, promotion) run later, in the registry, on the merged record.
 *
 * @example
 * const { fields, issues } = parseClientFields(body, "create", DEFAULT_LIMITS);
 */
export function parseClientFields(
  body: unknown,
  mode: "create" | "update",
  limits: RegistryLimits,
): { fields: ParsedClientFields; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { fields: {}, issues: [{ path: "", message: "must be a JSON object" }] };
  }
  const input = body as Record<string, unknown>;
  const schemas = fieldSchemasFor(limits);
  const known = new Set<string>(Object.keys(schemas));
  if (mode === "create") known.delete("visibility");
  const readOnly = new Set<string>(READ_ONLY_FIELDS);
  if (mode === "create") readOnly.add("visibility");

  for (const key of Object.keys(input)) {
    if (readOnly.has(key)) issues.push({ path: pointer(key), message: `${key} is read-only and cannot be set` });
    // A name is echoed at most once in full (in the pointer), so a huge key cannot double the response.
    else if (!known.has(key)) issues.push({ path: pointer(key), message: key.length > 64 ? "unknown field" : `unknown field ${key}` });
  }
  if (mode === "create") {
    for (const key of REQUIRED_ON_CREATE) {
      if (input[key] === undefined) issues.push({ path: pointer(key), message: `${key} is required` });
    }
  }

  const fields: ParsedClientFields = {};
  const out = fields as Record<string, unknown>;
  const lists: Partial<Record<string, { max: number; message: string }>> = listLimits(limits);
  // Entries already reported by the shape check, per list: one issue per entry.
  const reported = new Map<string, Set<number>>();
  // A list over its entry limit gets that one issue and no per-entry work,
  // however many entries it has.
  const oversized = new Set<string>();
  for (const key of known) {
    const value = input[key];
    if (value === undefined) continue;
    const cap = lists[key];
    if (cap !== undefined && Array.isArray(value) && value.length > cap.max) {
      issues.push({ path: pointer(key), message: cap.message });
      oversized.add(key);
      continue;
    }
    const schema = schemas[key as keyof typeof schemas];
    const result = schema.safeParse(value);
    if (!result.success) {
      issues.push(...zodIssues(result.error, key));
      const entries = result.error.issues.flatMap((i) => (typeof i.path[0] === "number" ? [i.path[0]] : []));
      reported.set(key, new Set(entries));
      continue;
    }
    out[key] = result.data;
  }

  if (fields.client_name !== undefined) {
    const name = fields.client_name.trim();
    const problem = clientNameProblem(fields.client_name, name);
    if (problem !== null) issues.push({ path: "/client_name", message: problem });
    fields.client_name = name;
  }
  if (fields.grant_types !== undefined) {
    fields.grant_types = dedupe(fields.grant_types);
    if (!fields.grant_types.includes("authorization_code")) {
      issues.push({ path: "/grant_types", message: "must contain authorization_code" });
    }
  }
  if (fields.response_types !== undefined) fields.response_types = dedupe(fields.response_types);

  // URI rules run on every string entry of the raw input, so one entry of
  // the wrong type does not hide problems in the others.
  const stringEntries = (key: string): [string, number][] => {
    const raw = input[key];
    if (!Array.isArray(raw) || oversized.has(key)) return [];
    const skip = reported.get(key);
    return raw.flatMap((v: unknown, i): [string, number][] => (typeof v === "string" && !skip?.has(i) ? [[v, i]] : []));
  };
  for (const key of ["redirect_uris", "post_logout_redirect_uris"] as const) {
    for (const [uri, i] of stringEntries(key)) {
      const problem = checkRedirectUri(uri, limits);
      if (problem !== null) issues.push({ path: pointer(key, i), message: problem });
    }
    const list = fields[key];
    if (list !== undefined) fields[key] = dedupe(list);
  }
  const origins: string[] = [];
  for (const [raw, i] of stringEntries("allowed_cors_origins")) {
    const result = normalizeOrigin(raw, limits);
    if ("error" in result) issues.push({ path: pointer("allowed_cors_origins", i), message: result.error });
    else origins.push(result.origin);
  }
  if (fields.allowed_cors_origins !== undefined) fields.allowed_cors_origins = dedupe(origins);
  for (const key of ["client_uri", "logo_uri", "policy_uri", "tos_uri"] as const) {
    const value = fields[key];
    if (value === undefined || value === null) continue;
    const problem = checkWebPageUrl(value, limits);
    if (problem !== null) issues.push({ path: pointer(key), message: problem });
  }
  return { fields, issues };
}
