/**
 * Per-field rules: the shape of each field sent in a create or update body
 * (from the field table's schemas), plus the rules of single fields that a
 * schema cannot state — client_name display rules, grant types containing
 * authorization_code, URI and origin rules. Cross-field rules run later, on
 * the merged record (rules/client.ts).
 */
import type { z } from "zod";
import { pointer, type ValidationIssue } from "../errors.js";
import {
  CLIENT_NAME_MAX_LENGTH,
  CREATE_FIELDS,
  entryCap,
  fieldSchemas,
  READ_ONLY_FIELDS,
  REQUIRED_ON_CREATE,
  UPDATE_FIELDS,
  type ParsedClientFields,
  type RegistryLimits,
} from "../fields.js";
import { CONTROL_CHARACTER, displayTextProblem, exceedsCodePoints, tooLongMessage } from "./text.js";
import { checkRedirectUri, checkWebPageUrl, normalizeOrigin } from "./uris.js";


/** The first problem of a client_name as sent (`sent`) and trimmed (`name`), or null. */
function clientNameProblem(sent: string, name: string): string | null {
  if (name.length === 0) return "must not be empty";
  if (exceedsCodePoints(name, CLIENT_NAME_MAX_LENGTH)) return tooLongMessage(CLIENT_NAME_MAX_LENGTH);
  // Checked before trimming, which would silently drop a leading U+FEFF or U+2028.
  const hidden = displayTextProblem(sent);
  if (hidden !== null) return hidden;
  if (CONTROL_CHARACTER.test(name)) return "must not contain control characters";
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
  const schemas = fieldSchemas(limits) as Record<string, z.ZodType>;
  const known = new Set<string>(mode === "create" ? CREATE_FIELDS : UPDATE_FIELDS);
  // On create, fields only an update may set (visibility) are read-only too.
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
