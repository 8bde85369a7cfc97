/**
 * Per-field rules: the shape of each field sent in a create or update body
 * (from the field table's schemas), plus the rules of single fields that a
 * schema cannot state — client_name display rules, grant types containing
 * authorization_code, URI and origin rules, each list value once, what an
 * explicit null means. Cross-field rules run later, on the merged record
 * (rules/client.ts).
 *
 * Nothing is rewritten: a value is kept as sent or refused with an issue
 * that shows the accepted form (docs/api.md, "What you send is what you
 * read back").
 */
import type * as z from "zod";
import { pointer, type ValidationIssue } from "../model/errors.js";
import {
  CLIENT_FIELDS,
  CLIENT_NAME_MAX_LENGTH,
  CREATE_FIELDS,
  entryCap,
  fieldSchemas,
  nullMeaning,
  READ_ONLY_FIELDS,
  REQUIRED_ON_CREATE,
  UPDATE_FIELDS,
  type FieldSpec,
  type ParsedClientFields,
  type RegistryLimits,
} from "../fields.js";
import { clientInputBounds, boundedJsonCopy } from "./json-bounds.js";
import { checkJwksUri, jwksIssues } from "./jwks.js";
import { CONTROL_CHARACTER, displayTextProblem, exceedsCodePoints, tooLongMessage } from "./text.js";
import { checkRedirectUri, checkWebPageUrl, normalizeOrigin } from "./uris.js";

/**
 * The first problem of a client_name as sent, or null. Surrounding
 * whitespace is refused, not trimmed (a declarative client would see a
 * diff forever); checked last, so that the trimmed form it suggests is
 * accepted.
 */
function clientNameProblem(sent: string): string | null {
  const name = sent.trim();
  if (name.length === 0) return "must not be empty";
  if (exceedsCodePoints(name, CLIENT_NAME_MAX_LENGTH)) return tooLongMessage(CLIENT_NAME_MAX_LENGTH);
  // Checked on the value as sent: trimming would hide a leading U+FEFF or U+2028.
  const hidden = displayTextProblem(sent);
  if (hidden !== null) return hidden;
  if (CONTROL_CHARACTER.test(name)) return "must not contain control characters";
  if (name !== sent) return `must not start or end with whitespace: send ${JSON.stringify(name)}`;
  return null;
}

/**
 * One issue per entry equal to an earlier one under `canonical` (identity
 * unless given): lists take each value once, and a repeat is refused, never
 * dropped.
 *
 * @example
 * ```ts
 * duplicateIssues("/grant_types", ["authorization_code", "authorization_code"]);
 * // [{ path: "/grant_types/1", message: "duplicate of entry 0; send each value once" }]
 * ```
 */
export function duplicateIssues(
  path: string,
  values: readonly (readonly [string, number])[] | readonly string[],
  canonical: (value: string) => string = (value) => value,
  what = "value",
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const first = new Map<string, [string, number]>();
  for (const [position, entry] of values.entries()) {
    const [value, index] = typeof entry === "string" ? [entry, position] : entry;
    const key = canonical(value);
    const earlier = first.get(key);
    if (earlier === undefined) {
      first.set(key, [value, index]);
      continue;
    }
    const [earlierValue, earlierIndex] = earlier;
    const detail = earlierValue === value ? `duplicate of entry ${earlierIndex}` : `same ${what} as entry ${earlierIndex} (${key})`;
    issues.push({ path: `${path}${pointer(index)}`, message: `${detail}; send each ${what} once` });
  }
  return issues;
}

const PROMOTION_ON_CREATE =
  'visibility "public" cannot be set on create: create the client "private" (the default), set a client_uri ' +
  'and verify it (DNS TXT), then update with visibility "public" (promotion also needs a logo_uri and an API scope)';

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

/**
 * Checks the shape and the per-field rules of a create or update body and
 * reports every problem at once. Cross-field rules (scopes, auth method
 * switches, promotion) run later, in the registry, on the merged record.
 *
 * The body is first checked against the JSON bounds of
 * {@link clientInputBounds} (depth, values, string length, size) and copied
 * as plain data: a body past a bound, or one that is not JSON data, gets
 * that one issue and no further work, since every later step would pay
 * for its size or overflow on its depth.
 *
 * @example
 * ```ts
 * import { DEFAULT_LIMITS } from "oauth-client-registry";
 *
 * declare const body: unknown; // a create request's parsed JSON
 * const { fields, issues } = parseClientFields(body, "create", DEFAULT_LIMITS);
 * ```
 */
export function parseClientFields(
  body: unknown,
  mode: "create" | "update",
  limits: RegistryLimits,
): { fields: ParsedClientFields; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const notObject = { fields: {}, issues: [{ path: "", message: "must be a JSON object" }] };
  if (typeof body !== "object" || body === null) return notObject;
  const bounded = boundedJsonCopy(body, clientInputBounds(limits));
  if ("issue" in bounded) return { fields: {}, issues: [bounded.issue] };
  if (Array.isArray(bounded.value)) return notObject;
  const input = bounded.value as Record<string, unknown>;
  const schemas = fieldSchemas(limits) as Record<string, z.ZodType>;
  const known = new Set<string>(mode === "create" ? CREATE_FIELDS : UPDATE_FIELDS);
  // On create, fields only an update may set are read-only too (visibility may be sent, as "private").
  const readOnly = new Set<string>(READ_ONLY_FIELDS);
  if (mode === "create") for (const name of UPDATE_FIELDS) if (!known.has(name)) readOnly.add(name);

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
  // Entries already reported by the shape check, per list: one issue per entry.
  const reported = new Map<string, Set<number>>();
  // A list over its entry limit gets that one issue and no per-entry work,
  // however many entries it has.
  const oversized = new Set<string>();
  for (const key of known) {
    const value = input[key];
    if (value === undefined) continue;
    if (value === null) {
      // null means the field's default, or no change (visibility); on a required field it is refused.
      const meaning = nullMeaning(key);
      if (meaning === "default") out[key] = (CLIENT_FIELDS as Record<string, FieldSpec>)[key]!.initial!();
      else if (meaning === undefined) {
        issues.push({
          path: pointer(key),
          message: mode === "create" ? `${key} is required` : `${key} is required and cannot be cleared (null); send a value`,
        });
      }
      continue;
    }
    const cap = entryCap(key, limits);
    if (cap !== undefined && Array.isArray(value) && value.length > cap.max) {
      issues.push({ path: pointer(key), message: cap.message });
      oversized.add(key);
      continue;
    }
    const result = schemas[key]!.safeParse(value);
    if (!result.success) {
      issues.push(...zodIssues(result.error, key));
      const entries = result.error.issues.flatMap((i) => (typeof i.path[0] === "number" ? [i.path[0]] : []));
      reported.set(key, new Set(entries));
      continue;
    }
    out[key] = result.data;
  }

  if (mode === "create" && fields.visibility === "public") {
    issues.push({ path: "/visibility", message: PROMOTION_ON_CREATE });
  }
  if (fields.client_name !== undefined) {
    const problem = clientNameProblem(fields.client_name);
    if (problem !== null) issues.push({ path: "/client_name", message: problem });
  }
  if (fields.grant_types !== undefined) {
    if (!fields.grant_types.includes("authorization_code")) {
      issues.push({ path: "/grant_types", message: "must contain authorization_code" });
    }
    issues.push(...duplicateIssues("/grant_types", fields.grant_types));
  }
  if (fields.response_types !== undefined) issues.push(...duplicateIssues("/response_types", fields.response_types));

  // URI rules run on every string entry of the raw input, so one entry of
  // the wrong type does not hide problems in the others.
  const stringEntries = (key: string): [string, number][] => {
    const raw = input[key];
    if (!Array.isArray(raw) || oversized.has(key)) return [];
    const skip = reported.get(key);
    return raw.flatMap((v: unknown, i): [string, number][] => (typeof v === "string" && !skip?.has(i) ? [[v, i]] : []));
  };
  for (const key of ["redirect_uris", "post_logout_redirect_uris"] as const) {
    const accepted: [string, number][] = [];
    for (const [uri, i] of stringEntries(key)) {
      const problem = checkRedirectUri(uri, limits);
      if (problem !== null) issues.push({ path: pointer(key, i), message: problem });
      else accepted.push([uri, i]);
    }
    // Redirect URIs are matched character for character (redirect.ts), so only exact repeats are duplicates.
    // An entry refused for its form is not also reported as a duplicate: one issue per entry.
    issues.push(...duplicateIssues(pointer(key), accepted, undefined, "URI"));
  }
  // Origins are kept as sent and compared canonically (host case, default
  // port, trailing slash): two spellings of one origin are a duplicate.
  const origins: [string, number][] = [];
  const canonicalOrigins = new Map<string, string>();
  for (const [raw, i] of stringEntries("allowed_cors_origins")) {
    const result = normalizeOrigin(raw, limits);
    if ("error" in result) issues.push({ path: pointer("allowed_cors_origins", i), message: result.error });
    else {
      origins.push([raw, i]);
      canonicalOrigins.set(raw, result.origin);
    }
  }
  issues.push(...duplicateIssues("/allowed_cors_origins", origins, (raw) => canonicalOrigins.get(raw) ?? raw, "origin"));
  for (const key of ["client_uri", "logo_uri", "policy_uri", "tos_uri"] as const) {
    const value = fields[key];
    if (value === undefined || value === null) continue;
    const problem = checkWebPageUrl(value, limits);
    if (problem !== null) issues.push({ path: pointer(key), message: problem });
  }
  if (fields.jwks !== undefined && fields.jwks !== null) issues.push(...jwksIssues(fields.jwks));
  if (typeof fields.jwks_uri === "string") {
    const problem = checkJwksUri(fields.jwks_uri, limits);
    if (problem !== null) issues.push({ path: "/jwks_uri", message: problem });
  }
  return { fields, issues };
}
