/**
 * Scope normalization: order kept, duplicates refused, protocol
 * scopes managed from the grant and response types, API scopes checked
 * against the catalog, other simple scopes limited to identity scopes.
 */
import type { GrantType, ResponseType } from "../fields.js";
import { pointer, type ValidationIssue } from "../model/errors.js";
import { exceedsCodePoints, tooLongMessage, wellFormedProblem, WHITESPACE_OR_CONTROL } from "./text.js";

/**
 * The catalog of API (dot-delimited) scopes a client may request: a plain
 * list, or an object for catalogs that live elsewhere (a database, a config
 * service). Without a catalog any well-formed dotted scope is accepted.
 */
export type ScopeCatalog =
  | readonly string[]
  | {
      has(scope: string): boolean | Promise<boolean>;
      list(): readonly string[] | Promise<readonly string[]>;
    };

export const DEFAULT_IDENTITY_SCOPES: readonly string[] = Object.freeze(["profile", "email"]);

/** Longest scope, in Unicode code points. */
export const SCOPE_MAX_LENGTH = 128;
/** The issue of a scope over {@link SCOPE_MAX_LENGTH}. */
export const SCOPE_TOO_LONG = `a scope ${tooLongMessage(SCOPE_MAX_LENGTH)}`;

/** Scopes the registry adds or removes itself; `offline` is an alias never stored. */
export const PROTOCOL_SCOPES: ReadonlySet<string> = new Set(["openid", "offline_access", "offline"]);

// RFC 6749 §3.3 scope-token characters, minus the colon and the dot separator.
const SCOPE_SEGMENT = "[\\x21\\x23-\\x2d\\x2f-\\x39\\x3b-\\x5b\\x5d-\\x7e]+";
const DOTTED_SCOPE = new RegExp(`^${SCOPE_SEGMENT}(\\.${SCOPE_SEGMENT})+$`);

/** Options that shape normalization; taken from the registry options. */
export interface ScopeRules {
  catalog?: ScopeCatalog | undefined;
  identityScopes: readonly string[];
}

/**
 * Wraps a catalog option into one async interface.
 *
 * @example
 * ```ts
 * const catalog = toCatalog(["zone.read", "zone.edit"]);
 * await catalog.has("zone.read"); // true
 * ```
 */
export function toCatalog(catalog: ScopeCatalog | undefined): {
  has(scope: string): Promise<boolean>;
  list(): Promise<string[]>;
} {
  if (catalog === undefined) return { has: async () => true, list: async () => [] };
  if (isScopeList(catalog)) {
    const set = new Set(catalog);
    return { has: async (scope) => set.has(scope), list: async () => [...catalog] };
  }
  return {
    has: async (scope) => Boolean(await catalog.has(scope)),
    list: async () => [...(await catalog.list())],
  };
}

function isScopeList(catalog: ScopeCatalog): catalog is readonly string[] {
  return Array.isArray(catalog);
}

/** Whether a scope is an API scope (dot-delimited, e.g. `account.read`). */
export function isApiScope(scope: string): boolean {
  return DOTTED_SCOPE.test(scope);
}

function formatProblem(scope: string): string | null {
  if (scope.length === 0) return "a scope must not be empty";
  const malformed = wellFormedProblem(scope);
  if (malformed !== null) return `a scope ${malformed}`;
  if (exceedsCodePoints(scope, SCOPE_MAX_LENGTH)) return SCOPE_TOO_LONG;
  if (WHITESPACE_OR_CONTROL.test(scope)) return "a scope must not contain whitespace or control characters";
  if (scope.includes(":")) {
    return `colon-delimited scopes are not supported (${JSON.stringify(scope)}); use the dotted form, e.g. ${JSON.stringify(scope.replace(/:/g, "."))}`;
  }
  if (scope.includes('"') || scope.includes("\\")) return 'a scope must not contain " or \\';
  return null;
}

/** Whether `scope` came earlier in the list (then refused with an issue, never dropped silently). */
function repeated(seen: Map<string, number>, scope: string, i: number, at: string, issues: ValidationIssue[]): boolean {
  const earlier = seen.get(scope);
  if (earlier === undefined) {
    seen.set(scope, i);
    return false;
  }
  issues.push({ path: at, message: `duplicate of entry ${earlier}; send each scope once` });
  return true;
}

/**
 * Normalizes a scope list for the given grant and response types; each
 * scope must be sent once (a repeat is refused with an issue).
 * Managed scopes are appended: `openid` when response_types has `id_token`,
 * or when the input asks for it and response_types has `code`; then
 * `offline_access` iff grant_types has `refresh_token`.
 *
 * @example
 * ```ts
 * const rules = { identityScopes: ["profile", "email"] };
 * await normalizeScopes(["openid", "profile"], ["authorization_code"], ["code"], rules)
 * // { scopes: ["profile", "openid"], issues: [] }
 * await normalizeScopes(["openid", "profile"], ["authorization_code"], ["token"], rules)
 * // { scopes: ["profile"], issues: [] }
 * ```
 */
export async function normalizeScopes(
  input: readonly string[],
  grantTypes: readonly GrantType[],
  responseTypes: readonly ResponseType[],
  rules: ScopeRules,
  path = "/scopes",
): Promise<{ scopes: string[]; issues: ValidationIssue[] }> {
  const catalog = toCatalog(rules.catalog);
  const identity = new Set(rules.identityScopes);
  const issues: ValidationIssue[] = [];
  const seen = new Map<string, number>();
  const kept: string[] = [];
  for (const [i, scope] of input.entries()) {
    const at = `${path}${pointer(i)}`;
    if (repeated(seen, scope, i, at, issues)) continue;
    const problem = formatProblem(scope);
    if (problem !== null) {
      issues.push({ path: at, message: problem });
      continue;
    }
    if (PROTOCOL_SCOPES.has(scope)) continue;
    if (scope.includes(".")) {
      if (!isApiScope(scope)) {
        issues.push({ path: at, message: `${JSON.stringify(scope)} is not a well-formed dotted scope` });
      } else if (!(await catalog.has(scope))) {
        issues.push({ path: at, message: `${JSON.stringify(scope)} is not in the scope catalog` });
      } else {
        kept.push(scope);
      }
      continue;
    }
    if (!identity.has(scope)) {
      issues.push({
        path: at,
        message: `${JSON.stringify(scope)} is not an identity scope (${[...identity].join(", ") || "none configured"}) nor a dotted API scope`,
      });
      continue;
    }
    kept.push(scope);
  }
  if (wantsOpenId(input, responseTypes)) kept.push("openid");
  if (grantTypes.includes("refresh_token")) kept.push("offline_access");
  return { scopes: kept, issues };
}

/**
 * Whether the normalized scopes hold `openid`: always with `id_token` (the
 * authorization response carries an ID token); with `code` only when asked
 * for, since an OpenID Connect code-flow client gets its ID token from the
 * token endpoint while a plain OAuth code client does not want one; never
 * otherwise (e.g. `token` alone, which cannot deliver an ID token).
 */
function wantsOpenId(input: readonly string[], responseTypes: readonly ResponseType[]): boolean {
  if (responseTypes.includes("id_token")) return true;
  return responseTypes.includes("code") && input.includes("openid");
}

/**
 * Checks optional scopes against the normalized scopes: each must be one of
 * them and never a protocol scope, each once (a repeat is refused); order kept.
 *
 * @example
 * ```ts
 * checkOptionalScopes(["zone.read"], ["zone.read", "openid"]) // { optionalScopes: ["zone.read"], issues: [] }
 * ```
 */
export function checkOptionalScopes(
  optional: readonly string[],
  scopes: readonly string[],
  path = "/optional_scopes",
): { optionalScopes: string[]; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const inScopes = new Set(scopes);
  const seen = new Map<string, number>();
  const kept: string[] = [];
  for (const [i, scope] of optional.entries()) {
    const at = `${path}${pointer(i)}`;
    if (repeated(seen, scope, i, at, issues)) continue;
    const problem = formatProblem(scope);
    if (problem !== null) issues.push({ path: at, message: problem });
    else if (PROTOCOL_SCOPES.has(scope)) {
      issues.push({ path: at, message: `${scope} is managed automatically and cannot be optional` });
    } else if (!inScopes.has(scope)) {
      issues.push({ path: at, message: `optional scope ${JSON.stringify(scope)} must also be in scopes` });
    } else kept.push(scope);
  }
  return { optionalScopes: kept, issues };
}
